import net from "node:net";

/**
 * A loopback TCP port nobody listens on right now, for servers that must be
 * told their port in advance (an embedded PostgreSQL, a child process).
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
