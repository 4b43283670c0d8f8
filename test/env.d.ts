// Bindings the tests see: the Worker's own, plus the keys vitest.config.mts generates.
declare namespace Cloudflare {
  interface Env {
    TASKS: KVNamespace;
    GITHUB_APP_ID: string;
    GITHUB_APP_PRIVATE_KEY: string;
    GITHUB_WEBHOOK_SECRET: string;
    OPENHANDS_API_KEY: string;
    OPENHANDS_BASE_URL: string;
    GITHUB_API_URL: string;
    TEST_PRIVATE_KEY_PKCS8: string;
    TEST_PUBLIC_KEY: string;
  }
}
