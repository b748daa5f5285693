//! STUB
#![allow(missing_docs)]
use crate::time::Instant;
use core::time::Duration;
pub trait CongestionControl {
    fn window(&self) -> usize;
    fn slow_start_threshold(&self) -> usize;
    fn set_mss(&mut self, mss: usize);
    fn on_ack(&mut self, now: Instant, acked: usize, in_flight: usize, rtt: Option<Duration>);
    fn on_congestion_event(&mut self, now: Instant, in_flight: usize);
    fn on_recovery_end(&mut self, now: Instant);
    fn on_timeout(&mut self, now: Instant, in_flight: usize);
}
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Algorithm {
    #[default]
    NewReno,
    Cubic,
}
#[derive(Debug, Clone)]
pub struct Congestion {
    cwnd: usize,
    ssthresh: usize,
    mss: usize,
}
impl Congestion {
    pub fn new(_a: Algorithm, mss: usize) -> Self {
        Congestion {
            cwnd: 10 * mss,
            ssthresh: usize::MAX,
            mss,
        }
    }
}
impl CongestionControl for Congestion {
    fn window(&self) -> usize {
        self.cwnd
    }
    fn slow_start_threshold(&self) -> usize {
        self.ssthresh
    }
    fn set_mss(&mut self, mss: usize) {
        self.mss = mss;
        self.cwnd = 10 * mss;
    }
    fn on_ack(&mut self, _: Instant, acked: usize, _: usize, _: Option<Duration>) {
        if self.cwnd < self.ssthresh {
            self.cwnd += acked.min(2 * self.mss)
        } else {
            self.cwnd += self.mss * self.mss / self.cwnd.max(1)
        }
    }
    fn on_congestion_event(&mut self, _: Instant, f: usize) {
        self.ssthresh = (f / 2).max(2 * self.mss);
        self.cwnd = self.ssthresh;
    }
    fn on_recovery_end(&mut self, _: Instant) {}
    fn on_timeout(&mut self, _: Instant, f: usize) {
        self.ssthresh = (f / 2).max(2 * self.mss);
        self.cwnd = self.mss;
    }
}
