// The job of W10, one module for every pool: the seed's `sum(i * i for i in
// range(n))`, exact (partial sums of 64 squares stay below 2^53 as Numbers and
// are added up as a BigInt), returned as a string.
export default function cpuHeavy(n) {
  let total = 0n;
  for (let block = 0; block < n; block += 64) {
    let partial = 0;
    const end = Math.min(block + 64, n);
    for (let i = block; i < end; i++) partial += i * i;
    total += BigInt(partial);
  }
  return String(total);
}
