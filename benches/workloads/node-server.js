// An idle Node.js HTTP server on 127.0.0.1 with two worker_threads (one named), a used
// libuv pool (pbkdf2, readFile) and 100000 small objects. Used by benches/compare.sh.
const http = require('http');
const { Worker } = require('worker_threads');
const crypto = require('crypto');
new Worker('setInterval(() => {}, 1000)', { eval: true, name: 'bg-worker' });
new Worker('setInterval(() => {}, 1000)', { eval: true });
http.createServer((q, r) => r.end('ok')).listen(0, '127.0.0.1', () => {
  crypto.pbkdf2('a', 'b', 1, 32, 'sha256', () => {});
  require('fs').readFile('/etc/hostname', () => {});
  const objs = []; for (let i = 0; i < 100000; i++) objs.push({ i });
  global.keep = objs;
});
