// The sleep workload: an idle client process that stays up so there is a meshed caller to send requests from.
console.log(`sleep: idle; outbound proxy ${process.env.HTTP_PROXY || '(none)'}`);
const keepAlive = setInterval(() => {}, 1 << 30);
const stop = () => {
  clearInterval(keepAlive);
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
