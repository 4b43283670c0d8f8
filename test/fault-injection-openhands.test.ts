import { CALLS, faultSuite } from "./support/fault-suite";

faultSuite(CALLS.filter((call) => call.upstream === "openhands"));
