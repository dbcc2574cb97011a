/**
 * What the local VM reaches on the host through QEMU's user network (the host's loopback is 10.0.2.2
 * inside the VM): an HTTP proxy for apt (the VM has no internet of its own, the host reaches Debian's
 * mirror) that also serves a few local files, and a TLS front for the emulated AWS: the boot script
 * and its unit are the image's, unchanged, so the AWS CLI in the VM calls the real service names
 * (https://ssm.<region>.amazonaws.com), which the local boot points at the host.
 */
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { type IncomingMessage, type Server, type ServerResponse, createServer, request } from "node:http";
import { type AddressInfo, type Server as NetServer, connect } from "node:net";
import { join } from "node:path";
import { createServer as createTlsServer } from "node:tls";

export interface RunningServer {
  readonly port: number;
  close(): Promise<void>;
}

function listen(server: Server | NetServer, host: string, port: number, what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        new Error(
          `${what} could not listen on ${host}:${port}: ${error.code === "EADDRINUSE" ? "the port is in use (another local VM run?)" : error.message}`,
        ),
      ),
    );
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

function closer(server: Server | NetServer): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      (server as Server).closeAllConnections?.();
      server.close(() => resolve());
    });
}

/**
 * A forward proxy for plain-HTTP GET/HEAD (apt's `Acquire::http::Proxy`), and `files`: local paths
 * served under /local-vm/<name>. Anything else is refused: it proxies only what apt asks for.
 */
export async function startAptProxy(port: number, files: Readonly<Record<string, string>> = {}, cacheDir?: string): Promise<RunningServer> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? "";
    if (url.startsWith("/local-vm/")) {
      const file = files[url.slice("/local-vm/".length)];
      if (!file || !existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "content-length": statSync(file).size, "content-type": "application/octet-stream" });
      createReadStream(file).pipe(res);
      return;
    }
    if (!/^http:\/\//.test(url) || (req.method !== "GET" && req.method !== "HEAD")) {
      res.writeHead(403).end("only plain-HTTP GET and HEAD are proxied\n");
      return;
    }
    // Packages never change under one name (a new version is a new file name), so a .deb fetched once
    // is served from the cache afterwards; indexes (Release, Packages) always come from the mirror.
    const cached =
      cacheDir && req.method === "GET" && /\.deb$/.test(new URL(url).pathname)
        ? join(cacheDir, new URL(url).pathname.replace(/[^A-Za-z0-9._+~-]/g, "_"))
        : undefined;
    if (cached && existsSync(cached)) {
      res.writeHead(200, { "content-length": statSync(cached).size, "content-type": "application/vnd.debian.binary-package" });
      createReadStream(cached).pipe(res);
      return;
    }
    const upstream = request(url, { method: req.method, headers: { ...req.headers, host: new URL(url).host } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      if (cached && answer.statusCode === 200) {
        mkdirSync(cacheDir!, { recursive: true });
        const partial = `${cached}.${process.pid}.part`;
        const file = createWriteStream(partial);
        answer.pipe(file);
        file.on("finish", () => {
          try {
            renameSync(partial, cached);
          } catch {
            rmSync(partial, { force: true });
          }
        });
        answer.on("aborted", () => file.destroy());
      }
    });
    upstream.setTimeout(120_000, () => upstream.destroy(new Error("no answer in 120 s")));
    upstream.on("error", (error) => {
      if (!res.headersSent) res.writeHead(502);
      res.end(`proxy: ${error.message}\n`);
    });
    upstream.end();
  });
  const bound = await listen(server, "127.0.0.1", port, "the apt proxy for the VM");
  return { port: bound, close: closer(server) };
}

/** TLS on `port` in front of a plain-HTTP server on 127.0.0.1:`targetPort` (the emulated AWS). */
export async function startTlsFront(port: number, keyFile: string, certFile: string, targetPort: number): Promise<RunningServer> {
  const server = createTlsServer({ key: readFileSync(keyFile), cert: readFileSync(certFile) }, (socket) => {
    const target = connect(targetPort, "127.0.0.1");
    socket.pipe(target).pipe(socket);
    const end = () => {
      socket.destroy();
      target.destroy();
    };
    socket.on("error", end);
    target.on("error", end);
  });
  const bound = await listen(server, "127.0.0.1", port, "the TLS front of the emulated AWS");
  return { port: bound, close: closer(server) };
}
