// The `control` and `metrics` sections of `dfs serve`'s configuration: where
// the control API (dfsctl's) and the Prometheus metrics are served.

export interface ControlSettings {
  /**
   * The Unix socket the control API listens on; "" (the default): the file
   * "control.sock" in `store.dataDir`; "none": no socket. Only processes that
   * may open the file (its permissions are 0600) reach the API through it.
   */
  readonly socket: string;
  /**
   * A TCP address (HOST:PORT) for the control API as well; "" (the default):
   * none. Requests over TCP must carry `control.token` as a bearer token.
   */
  readonly listen: string;
  /** The bearer token TCP requests must carry; required with `control.listen`. */
  readonly token: string;
}

export const DEFAULT_CONTROL_SETTINGS: ControlSettings = { socket: "", listen: "", token: "" };

export interface MetricsSettings {
  /** The TCP address (HOST:PORT) serving Prometheus metrics at /metrics; "" (the default): off. */
  readonly listen: string;
}

export const DEFAULT_METRICS_SETTINGS: MetricsSettings = { listen: "" };
