//! TCP through the whole stack over a faulty link.
//!
//! `segments` holds regressions found by the whole-stack runs, reduced
//! to two connections joined by hand.

/// Regressions found by the runs above, reduced to two [`Connection`]s
/// joined by hand: segments and time, no devices.
mod segments {
    use ethox::layer::tcp::buffer::{RingRecvBuffer, SendBuffer, Source};
    use ethox::layer::tcp::connection::{Config, Connection, State};
    use ethox::time::Instant;
    use ethox::wire::tcp::{SeqNumber, TcpFlags, TcpRepr};

    pub struct Side {
        pub conn: Connection,
        send: Source,
        recv: RingRecvBuffer<'static>,
    }

    pub type Segment = (TcpRepr, Vec<u8>);

    impl Side {
        fn new(conn: Connection, bytes: u64) -> Side {
            Side {
                conn,
                send: Source::new(1, bytes),
                recv: RingRecvBuffer::new(vec![0; 64 * 1024]),
            }
        }

        /// The next segment this side sends at `now`.
        pub fn poll(&mut self, now: Instant) -> Option<Segment> {
            let t = self.conn.poll_transmit(now, &self.send, &self.recv, 1480)?;
            let mut payload = vec![0; t.repr.payload_len];
            assert_eq!(self.send.read_at(t.offset, &mut payload), payload.len());
            self.conn.on_transmitted(now, &t);
            Some((t.repr, payload))
        }

        /// Everything this side sends at `now`.
        pub fn drain(&mut self, now: Instant) -> Vec<Segment> {
            core::iter::from_fn(|| self.poll(now)).take(1000).collect()
        }

        pub fn deliver(&mut self, now: Instant, (repr, payload): &Segment) {
            let _ = self
                .conn
                .on_segment(now, repr, payload, &mut self.send, &mut self.recv);
            let n = self.recv.len();
            self.recv.consume(n);
        }
    }

    /// A (sending `bytes`) opened to B; A is established, B will be with
    /// A's next segment.
    pub fn open(bytes: u64) -> (Side, Side, Instant) {
        let now = Instant::from_secs(100);
        let config = Config::default();
        let mut a = Side::new(
            Connection::connect(40000, 80, SeqNumber(0xffff_f000), now, config),
            bytes,
        );
        let syn = a.poll(now).expect("SYN");
        let mut b = Side::new(
            Connection::accept(&syn.0, SeqNumber(0x7000_0000), now, config),
            0,
        );
        let syn_ack = b.poll(now).expect("SYN-ACK");
        a.deliver(now, &syn_ack);
        assert_eq!(a.conn.state(), State::Established);
        (a, b, now)
    }

    /// A's FIN is in flight when the retransmission timer fires; the ACK
    /// that then arrives covers it. A must see its FIN acknowledged (and
    /// go to FIN-WAIT-2), not count the FIN as data and send another FIN
    /// one past it: that FIN was never acknowledged, so A retransmitted
    /// it until the peer, gone, answered with a RST.
    #[test]
    fn fin_acknowledged_after_a_timeout() {
        let (mut a, mut b, mut now) = open(10_000);
        a.conn.close();
        let burst = a.drain(now);
        let (last, _) = burst.last().expect("data");
        assert!(last.flags.contains(TcpFlags::FIN));
        let fin = last.seq_number + last.payload_len;
        for segment in &burst {
            b.deliver(now, segment);
        }
        // B's ACKs are lost.
        assert!(!b.drain(now).is_empty());
        now = a.conn.next_deadline().expect("a retransmission timer");
        let again = a.poll(now).expect("a retransmission");
        assert!(again.0.seq_number < fin);
        b.deliver(now, &again);
        for ack in b.drain(now) {
            assert_eq!(ack.0.ack_number, Some(fin + 1u32));
            a.deliver(now, &ack);
        }
        assert_eq!(a.conn.state(), State::FinWait2);
        assert_eq!(a.conn.in_flight(), 0);
        assert!(a.drain(now).is_empty(), "nothing left to send");
    }
}
