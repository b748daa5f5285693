//! The TCP state machine at the level of segments: two `Connection`s
//! joined by a test harness that carries `TcpRepr`s and payload bytes,
//! with explicit time. No devices, no IP.

mod common;

use common::tcp_pair::{Pair, pattern};
use ethox::layer::tcp::connection::{CloseReason, Config, State};

#[test]
fn handshake_negotiates_options() {
    let p = Pair::open(Config::default());
    let (sack, ts, scale, ecn) = p.a.conn.negotiated();
    assert!(sack && ts && !ecn);
    assert_eq!(scale, Some((7, 7)));
    assert_eq!(p.a.conn.stats().mss, 1460);
}

#[test]
fn bulk_transfer_and_close() {
    let mut p = Pair::open(Config::default());
    let data = pattern(300_000);
    p.a.send.write(&data);
    p.a.conn.close();
    p.run(100_000);
    assert_eq!(p.b.recv.data, data);
    assert_eq!(p.b.conn.state(), State::CloseWait);
    assert_eq!(p.a.conn.state(), State::FinWait2);
    p.b.conn.close();
    p.run(100_000);
    assert_eq!(p.b.conn.state(), State::Closed);
    assert_eq!(p.b.conn.close_reason(), Some(CloseReason::Normal));
    // A waits in TIME-WAIT, then closes when its timer runs out.
    assert_eq!(p.a.conn.state(), State::Closed);
}

#[test]
fn transfer_survives_loss() {
    transfer_survives_loss_with(false);
}

/// The same with both devices cutting segments: the sender's bursts of
/// many MSS are lost and retransmitted a segment at a time.
#[test]
fn transfer_survives_loss_with_segmentation_offload() {
    transfer_survives_loss_with(true);
}

fn transfer_survives_loss_with(segmented: bool) {
    for seed in 1..20u64 {
        let mut p = Pair::open(Config::default());
        for side in [&mut p.a, &mut p.b] {
            side.segmented = segmented;
            side.max_len = if segmented { 65_000 } else { side.max_len };
        }
        let mut rng = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        p.drop = Box::new(move |_, _, _| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng % 10 == 0
        });
        let data = pattern(200_000);
        p.a.send.write(&data);
        p.a.conn.close();
        p.run(200_000);
        p.b.conn.close();
        p.run(200_000);
        eprintln!(
            "a {} {:?} {:?}\nb {} {:?}",
            p.a.conn.state(),
            p.a.conn.stats(),
            p.a.conn.next_deadline(),
            p.b.conn.state(),
            p.b.conn.stats()
        );
        assert_eq!(p.b.recv.data.len(), data.len(), "seed {seed}");
        assert!(p.b.recv.data == data, "seed {seed}");
        let cut = p.a.log.iter().filter(|(_, t)| t.segment_size > 0).count();
        assert_eq!(cut > 0, segmented, "seed {seed}: {cut} segments to cut");
        assert_eq!(p.a.conn.state(), State::Closed, "seed {seed}");
        assert_eq!(p.b.conn.state(), State::Closed, "seed {seed}");
    }
}
