//! The `httpd` example against real clients in the harness's namespace:
//! `wrk` with a hundred keep-alive connections for a few seconds (every
//! request answered, no socket error, no status other than 2xx), and
//! `curl` and `socat` for the details: the body's bytes, keep-alive
//! reuse, HEAD, 404, HTTP/1.0, pipelining, and 400 for a malformed
//! request.

mod common;

use std::process::Output;
use std::time::Duration;

use common::{HOST4, HOST6, Peer, can_run, run_limited, run_with_input};

const HTTPD: &str = env!("CARGO_BIN_EXE_httpd");

/// The body the server makes for `len` bytes: letters, a newline every
/// 64 bytes.
fn body(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| {
            if i % 64 == 63 {
                b'\n'
            } else {
                b'a' + (i % 26) as u8
            }
        })
        .collect()
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// `wrk` for three seconds against httpd started with `nic`: every
/// request answered, none with an error or a non-2xx status.
fn wrk_against(tag: &str, nic: &[&str]) {
    let peer = Peer::new(tag);
    let _server = peer.start(HTTPD, nic);
    let mut wrk = peer.command("wrk");
    wrk.args(["-t1", "-c100", "-d3s", &format!("http://{HOST4}/")]);
    let out = run_limited(wrk, Duration::from_secs(30));
    let report = text(&out);
    assert!(out.status.success(), "{report}");
    let requests: u64 = report
        .lines()
        .find_map(|l| l.trim().split_once(" requests in "))
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or_else(|| panic!("no request count in:\n{report}"));
    assert!(requests > 100, "{report}");
    assert!(!report.contains("Socket errors"), "{report}");
    assert!(!report.contains("Non-2xx"), "{report}");
}

#[test]
fn wrk_gets_every_request_answered() {
    if !can_run(&["ip", "wrk"]) {
        return;
    }
    wrk_against("httpd-wrk", &[]);
}

#[test]
fn wrk_gets_every_request_answered_over_io_uring() {
    if !can_run(&["ip", "wrk"]) {
        return;
    }
    wrk_against(
        "httpd-wrk-uring",
        &["--nic", "uring-tap", "--iface", "tap0"],
    );
}

#[test]
fn curl_and_socat_see_http_done_right() {
    if !can_run(&["ip", "curl", "socat"]) {
        return;
    }
    let peer = Peer::new("httpd-curl");
    let len = 5000;
    let _server = peer.start(HTTPD, &["--body", &len.to_string()]);
    let limit = Duration::from_secs(20);
    let url4 = format!("http://{HOST4}/");
    let url6 = format!("http://[{HOST6}]/");

    // Two GETs on one connection, over both families: the body byte for
    // byte, the connection reused.
    for url in [&url4, &url6] {
        let mut curl = peer.command("curl");
        curl.args(["-sv", "-g", url, url]);
        let out = run_limited(curl, limit);
        assert!(out.status.success(), "{}", text(&out));
        assert_eq!(out.stdout, [body(len), body(len)].concat(), "{url}");
        let log = String::from_utf8_lossy(&out.stderr);
        assert!(log.contains("Re-using existing connection"), "{log}");
        assert!(log.contains(&format!("Content-Length: {len}")), "{log}");
    }

    // HEAD: the headers of the GET, no body.
    let mut curl = peer.command("curl");
    curl.args(["-sI", &url4]);
    let out = run_limited(curl, limit);
    let head = String::from_utf8_lossy(&out.stdout);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(
        head.contains(&format!("Content-Length: {len}\r\n")),
        "{head}"
    );

    // Another path: 404, and the query string does not make / another.
    let mut curl = peer.command("curl");
    curl.args([
        "-s",
        "-o",
        "/dev/null",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code} ",
    ]);
    curl.args([format!("{url4}nope"), format!("{url4}?x=1")]);
    let out = run_limited(curl, limit);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "404 200 ",
        "{}",
        text(&out)
    );

    // HTTP/1.0: the server closes after the response.
    let mut curl = peer.command("curl");
    curl.args(["-sv", "--http1.0", &url4]);
    let out = run_limited(curl, limit);
    assert_eq!(out.stdout, body(len));
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("Connection: close"), "{log}");

    // Pipelined requests, answered in order; the last asks to close.
    let requests = "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n\
HEAD / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    let mut socat = peer.command("socat");
    socat.args(["-T", "5", "-", &format!("TCP:{HOST4}:80")]);
    let out = run_with_input(socat, requests.as_bytes(), limit);
    let answer = String::from_utf8_lossy(&out.stdout);
    // A body does not end with a newline: look for the status lines.
    let statuses: Vec<&str> = answer
        .match_indices("HTTP/1.1 ")
        .filter_map(|(at, _)| answer[at..].lines().next())
        .collect();
    assert_eq!(
        statuses,
        [
            "HTTP/1.1 200 OK",
            "HTTP/1.1 404 Not Found",
            "HTTP/1.1 200 OK"
        ],
        "{answer}"
    );
    assert!(answer.ends_with("Connection: close\r\n\r\n"), "{answer}");

    // A malformed request: 400, and the server closes the connection
    // (socat ends before its timeout).
    for bad in [
        "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
        "GET / HTTP/1.1\r\n\r\n",
        "\x16\x03\x01\x02\x00\x01\x00\x01\x03\x03",
    ] {
        let mut socat = peer.command("socat");
        socat.args(["-T", "8", "-", &format!("TCP:{HOST4}:80")]);
        let started = std::time::Instant::now();
        let out = run_with_input(socat, bad.as_bytes(), limit);
        let answer = String::from_utf8_lossy(&out.stdout);
        assert!(
            answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
            "{bad:?}: {answer}"
        );
        assert!(answer.contains("Connection: close\r\n"), "{answer}");
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "{bad:?}: not closed"
        );
    }
}

#[test]
fn an_overlong_head_gets_431() {
    if !can_run(&["ip", "socat"]) {
        return;
    }
    let peer = Peer::new("httpd-431");
    let _server = peer.start(HTTPD, &["--max-header", "512"]);
    let request = format!(
        "GET / HTTP/1.1\r\nHost: a\r\nX-Long: {}\r\n\r\n",
        "y".repeat(600)
    );
    let mut socat = peer.command("socat");
    socat.args(["-T", "5", "-", &format!("TCP:{HOST4}:80")]);
    let out = run_with_input(socat, request.as_bytes(), Duration::from_secs(20));
    let answer = String::from_utf8_lossy(&out.stdout);
    assert!(
        answer.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"),
        "{answer}"
    );
}
