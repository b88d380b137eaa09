// A Node.js cluster on 127.0.0.1: a primary and two HTTP workers sharing one port (the
// primary holds the listener and hands connections round-robin), the first worker also
// running a worker_thread. Prints the port once both workers listen. Used by
// benches/workloads/servers.sh.
const cluster = require('cluster');
const http = require('http');
const { Worker } = require('worker_threads');
if (cluster.isPrimary) {
  let listening = 0;
  for (let i = 0; i < 2; i++) {
    cluster.fork().on('listening', (address) => {
      if (++listening === 2) console.log(address.port);
    });
  }
} else {
  const serve = () => http.createServer((q, r) => r.end('ok')).listen(0, '127.0.0.1');
  if (cluster.worker.id === 1) {
    new Worker('setInterval(() => {}, 1 << 30)', { eval: true }).on('online', serve);
  } else {
    serve();
  }
}
