// A minimal web app so that the image builds and the health check answers; replace it with yours.
const http = require("node:http");

// The instance's unit passes APP_PORT (appPort in immutable.config.json); PORT is the usual fallback.
const port = Number(process.env.APP_PORT || process.env.PORT || 8080);
const healthPath = process.env.HEALTH_PATH || "/health";

http
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

process.on("SIGTERM", () => process.exit(0));
