//! Criterion benchmarks of the statistical kernels (bomon-stats):
//! funnel with overdispersion over 10,000 units, Mann-Kendall over 100,000
//! series of length 12, SPC with both rule sets over 100,000 series of length 40.
//! Run with `cargo bench --bench stats`.

use bomon_stats::funnel::{funnel, FunnelOptions, Overdispersion};
use bomon_stats::spc::{spc, Chart, Rules, SpcOptions};
use bomon_stats::trend::mann_kendall;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};

/// A small deterministic generator (xorshift) so the inputs are reproducible.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn bench_funnel(c: &mut Criterion) {
    let mut r = Rng(42);
    let den: Vec<f64> = (0..10_000)
        .map(|_| (20.0 + 2000.0 * r.next() * r.next()).round())
        .collect();
    let num: Vec<f64> = den
        .iter()
        .map(|d| (d * (0.05 + 0.15 * r.next())).round())
        .collect();
    let mut g = c.benchmark_group("funnel");
    g.sample_size(20);
    for od in [Overdispersion::Multiplicative, Overdispersion::Additive] {
        let opts = FunnelOptions {
            overdispersion: od,
            ..Default::default()
        };
        g.bench_function(format!("10k_units_{od:?}"), |b| {
            b.iter(|| funnel(&num, &den, &opts))
        });
    }
    let exact = FunnelOptions {
        overdispersion: Overdispersion::None,
        ..Default::default()
    };
    g.bench_function("10k_units_exact_limits", |b| {
        b.iter(|| funnel(&num, &den, &exact))
    });
    g.finish();
}

fn bench_mann_kendall(c: &mut Criterion) {
    let mut r = Rng(7);
    let series: Vec<Vec<f64>> = (0..100_000)
        .map(|_| (0..12).map(|t| t as f64 * 0.1 + r.next()).collect())
        .collect();
    let mut g = c.benchmark_group("mann_kendall");
    g.sample_size(10);
    g.bench_function("100k_series_len12", |b| {
        b.iter(|| series.iter().map(|s| mann_kendall(s).s).sum::<f64>())
    });
    g.finish();
}

fn bench_spc(c: &mut Criterion) {
    let mut r = Rng(9);
    let n = vec![400.0; 40];
    let series: Vec<Vec<f64>> = (0..100_000)
        .map(|_| (0..40).map(|_| (40.0 + 20.0 * r.next()).round()).collect())
        .collect();
    let mut g = c.benchmark_group("spc");
    g.sample_size(10);
    for (name, rules) in [("anhoej", Rules::Anhoej), ("nhs", Rules::Nhs)] {
        let opts = SpcOptions {
            chart: Chart::PPrime,
            rules,
            freeze: Some(12),
            ..Default::default()
        };
        g.bench_function(format!("100k_series_len40_pprime_{name}"), |b| {
            b.iter_batched(
                || (),
                |_| {
                    series
                        .iter()
                        .map(|s| spc(s, Some(&n), &opts).points.len())
                        .sum::<usize>()
                },
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, bench_funnel, bench_mann_kendall, bench_spc);
criterion_main!(benches);
