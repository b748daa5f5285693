//! Throughput of the Internet checksum, beside a plain memory read of the
//! same bytes (the bound any checksum can reach).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ethox::wire::checksum;
use std::hint::black_box;

fn bench_checksum(c: &mut Criterion) {
    let mut group = c.benchmark_group("checksum");
    let data: Vec<u8> = (0..65536u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    for &len in &[20usize, 64, 1500, 9000, 65536] {
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_with_input(BenchmarkId::new("sum", len), &len, |b, &len| {
            b.iter(|| checksum::sum(black_box(&data[..len])))
        });
        // A reference point: the wrapping byte sum a compiler vectorizes
        // fully, i.e. roughly the speed of reading the bytes.
        group.bench_with_input(BenchmarkId::new("read-bound", len), &len, |b, &len| {
            b.iter(|| {
                black_box(&data[..len])
                    .iter()
                    .fold(0u8, |a, &x| a.wrapping_add(x))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_checksum);
criterion_main!(benches);
