//! Criterion benchmarks for ethox live in `benches/benches/`.
