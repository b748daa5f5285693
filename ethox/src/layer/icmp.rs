//! The ICMP layer: echo replies built in place, everything else handed on.
//!
//! [`Endpoint::recv`] wraps the next handler of the IP layer (the user's,
//! or a UDP or TCP layer). ICMP echo requests to this host are answered in
//! the same buffer: the IP header is rewritten, the ICMP type flips from
//! request to reply and the checksum is patched incrementally (RFC 1624),
//! so the echo data is never copied or summed again. Every other packet,
//! other ICMP messages included, goes on to the next handler.
//!
//! Status: ICMPv4. ICMPv6, error generation and its rate limit arrive with
//! the rest of the "Core layers" issue.

use crate::layer::ip;
use crate::nic::Device;
use crate::wire::Error as WireError;
use crate::wire::icmpv4::{Icmpv4Packet, Icmpv4Repr};
use crate::wire::ip::IpProtocol;

/// Counters of the ICMP layer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct IcmpStats {
    /// Echo requests answered.
    pub echo_replies_sent: u64,
    /// Echo replies that could not be sent (device busy, buffer too small).
    pub echo_reply_errors: u64,
    /// ICMP messages handed to the next handler.
    pub rx_delivered: u64,
    /// ICMP messages with a wrong checksum.
    pub rx_bad_checksum: u64,
    /// ICMP messages too short or malformed.
    pub rx_malformed: u64,
}

/// Settings of the ICMP layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IcmpConfig {
    /// Whether echo requests are answered.
    pub answer_echo: bool,
}

impl Default for IcmpConfig {
    fn default() -> Self {
        IcmpConfig { answer_echo: true }
    }
}

/// The persistent state of the ICMP layer.
#[derive(Debug, Clone, Default)]
pub struct Endpoint {
    config: IcmpConfig,
    stats: IcmpStats,
}

impl Endpoint {
    /// An endpoint that answers echo requests.
    pub fn new() -> Endpoint {
        Endpoint::default()
    }

    /// Changes the settings.
    pub fn set_config(&mut self, config: IcmpConfig) {
        self.config = config;
    }

    /// The counters.
    pub fn stats(&self) -> IcmpStats {
        self.stats
    }

    /// An IP-layer handler that answers pings and hands everything else
    /// to `next`.
    pub fn recv<U>(&mut self, next: U) -> Receiver<'_, U> {
        Receiver {
            endpoint: self,
            next,
        }
    }
}

/// The IP-facing handler built by [`Endpoint::recv`].
pub struct Receiver<'e, U> {
    endpoint: &'e mut Endpoint,
    next: U,
}

impl<D: Device, U: ip::Recv<D>> ip::Recv<D> for Receiver<'_, U> {
    fn receive(&mut self, packet: ip::In<'_, '_, D>) {
        if packet.repr().protocol() != IpProtocol::Icmp {
            return self.next.receive(packet);
        }
        let checksum = packet.info().capabilities.icmpv4.rx;
        let parsed = Icmpv4Packet::new_checked(packet.payload())
            .and_then(|p| Icmpv4Repr::parse(&p, checksum));
        let stats = &mut self.endpoint.stats;
        match parsed {
            Ok(Icmpv4Repr::EchoRequest { .. }) if self.endpoint.config.answer_echo => {
                let len = packet.payload().len();
                let answered = packet.reply(IpProtocol::Icmp, len).and_then(|mut out| {
                    // The ICMP bytes were kept in place: flip the type and
                    // patch the checksum.
                    let _ =
                        Icmpv4Packet::new_unchecked(out.payload_mut()).echo_request_into_reply();
                    out.send()
                });
                match answered {
                    Ok(()) => stats.echo_replies_sent += 1,
                    Err(_) => stats.echo_reply_errors += 1,
                }
            }
            // Types without a Repr still go to the user, who may know them.
            Ok(_) | Err(WireError::Unsupported) => {
                stats.rx_delivered += 1;
                self.next.receive(packet);
            }
            Err(WireError::BadChecksum) => stats.rx_bad_checksum += 1,
            Err(_) => stats.rx_malformed += 1,
        }
    }
}
