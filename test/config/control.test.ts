import { describe, expect, it } from "vitest";
import { buildConfig } from "../../src/config/config.js";
import { DEFAULT_CONTROL_SETTINGS, DEFAULT_METRICS_SETTINGS } from "../../src/control/settings.js";

const build = (raw: object) => buildConfig(JSON.stringify(raw), "test.json", []);

describe("control and metrics settings", () => {
  it("default to the socket in the data directory, no TCP, no metrics", () => {
    const config = buildConfig(null, "(defaults)", []);
    expect(config.control).toEqual(DEFAULT_CONTROL_SETTINGS);
    expect(config.metrics).toEqual(DEFAULT_METRICS_SETTINGS);
  });

  it("take a socket path, a TCP address with its token, and a metrics address", () => {
    const config = build({
      control: { socket: "/run/dfs.sock", listen: "127.0.0.1:9000", token: "0123456789abcdef" },
      metrics: { listen: "127.0.0.1:9464" },
    });
    expect(config.control).toEqual({
      socket: "/run/dfs.sock",
      listen: "127.0.0.1:9000",
      token: "0123456789abcdef",
    });
    expect(config.metrics.listen).toBe("127.0.0.1:9464");
  });

  it("refuse a TCP control address without a token of 16 characters", () => {
    expect(() => build({ control: { listen: "127.0.0.1:9000" } })).toThrow(/control.token/);
    expect(() => build({ control: { listen: "127.0.0.1:9000", token: "short" } })).toThrow(
      /at least 16/,
    );
  });

  it("refuse bad addresses, unknown keys and non-strings", () => {
    expect(() => build({ metrics: { listen: "nowhere" } })).toThrow(
      /metrics.listen: must be "" \(off\) or HOST:PORT/,
    );
    expect(() => build({ control: { sockett: "x" } })).toThrow(/control.sockett: unknown key/);
    expect(() => build({ control: { socket: 3 } })).toThrow(
      /control.socket: must be a string, not 3/,
    );
    expect(() => build({ metrics: [] })).toThrow(/metrics: must be a mapping/);
  });
});
