//! STUB
#![allow(missing_docs)]
use core::time::Duration;
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtoConfig {
    pub initial: Duration,
    pub min: Duration,
    pub max: Duration,
    pub granularity: Duration,
}
impl Default for RtoConfig {
    fn default() -> Self {
        RtoConfig {
            initial: Duration::from_secs(1),
            min: Duration::from_millis(200),
            max: Duration::from_secs(60),
            granularity: Duration::from_millis(1),
        }
    }
}
#[derive(Debug, Clone)]
pub struct RttEstimator {
    c: RtoConfig,
    srtt: Option<Duration>,
    rto: Duration,
    b: u32,
}
impl RttEstimator {
    pub fn new(c: RtoConfig) -> Self {
        RttEstimator {
            c,
            srtt: None,
            rto: c.initial,
            b: 0,
        }
    }
    pub fn sample(&mut self, r: Duration) {
        self.srtt = Some(r);
        self.rto = (r * 3).max(self.c.min);
        self.b = 0;
    }
    pub fn rto(&self) -> Duration {
        (self.rto * (1 << self.b.min(10))).min(self.c.max)
    }
    pub fn back_off(&mut self) {
        self.b += 1;
    }
    pub fn srtt(&self) -> Option<Duration> {
        self.srtt
    }
}
