import { CALLS, faultSuite } from "./fault-suite";

faultSuite(CALLS.filter((call) => call.upstream === "openhands"));
