// What `env` from cloudflare:test holds besides the Worker's own bindings (worker-configuration.d.ts,
// `npm run types`): the keys vitest.config.mts generates for the tests.
declare namespace Cloudflare {
  interface Env {
    TEST_PRIVATE_KEY_PKCS8: string;
    TEST_PUBLIC_KEY: string;
  }
}
