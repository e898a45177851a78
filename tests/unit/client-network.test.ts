/** What one client's budget counts (src/adapters/ratelimit.ts): an IPv4 address, or an IPv6 /64. */
import { describe, expect, it } from "vitest";
import { clientNetwork } from "../../src/adapters/ratelimit.ts";

describe("clientNetwork", () => {
  it("counts an IPv4 address as itself, also when written as IPv4-mapped IPv6", () => {
    expect(clientNetwork("203.0.113.7")).toBe("203.0.113.7");
    expect(clientNetwork("::ffff:203.0.113.7")).toBe("203.0.113.7");
  });

  it("counts every address of an IPv6 /64 as one client, however it is written", () => {
    const network = "2001:db8:1:3::/64";
    for (const address of ["2001:db8:1:3::1", "2001:db8:1:3:ffff:ffff:ffff:ffff", "2001:0DB8:0001:0003::f"])
      expect(clientNetwork(address)).toBe(network);
    expect(clientNetwork("2001:db8:1:4::1")).not.toBe(network);
  });

  it("keeps anything that is not an address as it is, and names a missing one", () => {
    expect(clientNetwork("not-an-address")).toBe("not-an-address");
    expect(clientNetwork(undefined)).toBe("unknown");
  });
});
