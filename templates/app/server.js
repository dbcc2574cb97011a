// A minimal web app so that the image builds and the health check answers; replace it with yours.
const http = require("node:http");

// The instance's unit passes APP_PORT (appPort in immutable.config.json); PORT is the usual fallback.
const port = Number(process.env.APP_PORT || process.env.PORT || 8080);
const healthPath = process.env.HEALTH_PATH || "/health";

const server = http
  .createServer((req, res) => {
    if (req.url === healthPath) {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("ok\n");
      return;
    }
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("hello from an immutable server\n");
  })
  .listen(port, () => console.log(`listening on ${port}`));

// On SIGTERM (docker stop, when the instance is replaced) finish the requests in flight, then exit. The load
// balancer has already stopped sending new ones: Auto Scaling deregisters an instance and waits out the
// target group's deregistration delay before it terminates it. Keep-alive connections are closed when idle.
process.on("SIGTERM", () => {
  console.log("SIGTERM: finishing requests in flight");
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  // docker stop waits 20 s before SIGKILL (immutable-app@.service): leave before that.
  setTimeout(() => process.exit(0), 15_000).unref();
});
