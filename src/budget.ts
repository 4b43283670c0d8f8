/**
 * Outbound requests one invocation may still make. Workers Free allows 50 per
 * invocation; a step that could need more than what is left is put off to the
 * next tick instead of failing half-way. Every request to GitHub and OpenHands
 * goes through `fetch` here, so the count is exact.
 */
export class SubrequestBudget {
  private spent = 0;

  constructor(readonly limit: number) {}

  get used(): number {
    return this.spent;
  }

  canAfford(cost: number): boolean {
    return this.spent + cost <= this.limit;
  }

  readonly fetch: typeof fetch = (input, init) => {
    this.spent++;
    return fetch(input, init);
  };
}
