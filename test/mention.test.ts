import { describe, expect, it } from "vitest";
import { containsMention, requestText } from "../src/trigger/mention";
import { isBot } from "../src/trigger/actor";

describe("containsMention", () => {
  const cases: [string, boolean][] = [
    ["@openhands please fix this", true],
    ["@OpenHands please", true],
    ["@OPENHANDS", true],
    ["Hey @openhands, can you look?", true],
    ["(@openhands) fix it", true],
    ['"@openhands" fix it', true],
    ["cc:@openhands", true],
    ["line one\n@openhands do it", true],
    ["@openhands: fix", true],
    ["@openhands.", true],
    ["please @openhands!", true],
    ["- [ ] @openhands", true],
    ["```\ncode\n```\n@openhands after the fence", true],
    ["@openhands-agent fix it", false],
    ["@openhandsbot fix it", false],
    ["mail a@openhands.com", false],
    ["openhands please", false],
    ["see https://x.dev/@openhands", false],
    ["`@openhands` is the trigger", false],
    ["```\n@openhands inside a fence\n```", false],
    ["~~~\n@openhands inside a tilde fence\n~~~", false],
    ["```js\nconst x = '@openhands';\n```", false],
    ["> @openhands quoted request\nthanks", false],
    ["<!-- @openhands hidden -->", false],
    ["@@openhands", false],
    ["@openhands_x", false],
    ["", false],
    ["```\nunclosed fence @openhands", false],
    ["> quoted\n\n@openhands but this line asks", true],
    ["\t@openhands tabbed", true],
    ["[@openhands](https://github.com/openhands) link text", true],
    ["@openhands's idea", true],
    ["foo@openhands", false],
    ["#@openhands", true],
    ["<!--\n@openhands\n-->", false],
    // Link-reference definitions render as nothing on GitHub: a mention there is invisible.
    ["[//]: # (@openhands do evil)", false],
    ['[x]: <https://example.com> "@openhands do evil"', false],
    ["[x]: https://example.com '@openhands do evil'", false],
    ["[@openhands]: https://example.com", false],
    ["Thanks!\n\n[note]:\n  https://example.com\n  (@openhands on the lines after)", false],
    ["- [x]: # (@openhands in a list item)", false],
    ["@openhands fix it\n\n[//]: # (a note)", true],
    ["[x]: not a definition, @openhands", true],
    // So are image alt text and link titles.
    ["![@openhands do evil](https://x/y.png)", false],
    ["![@openhands do evil][shot]\n\n[shot]: https://x/y.png", false],
    ['[docs](https://x "@openhands do evil")', false],
    ['<img alt="@openhands do evil" src="https://x/y.png">', false],
  ];
  it.each(cases)("%j → %s", (body, expected) => {
    expect(containsMention(body)).toBe(expected);
  });
});

describe("requestText", () => {
  it("drops the mention and the punctuation after it", () => {
    expect(requestText("@openhands, please fix the tests")).toBe("please fix the tests");
    expect(requestText("Please @OpenHands fix it")).toBe("Please fix it");
  });
});

describe("isBot", () => {
  it.each([
    [{ login: "openhands-app[bot]", type: "Bot" }, true],
    [{ login: "dependabot[bot]" }, true],
    [{ login: "renovate", type: "Bot" }, true],
    [{ login: "codertocat", type: "User" }, false],
  ])("%j → %s", (sender, expected) => {
    expect(isBot(sender)).toBe(expected);
  });
});
