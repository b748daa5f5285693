//! The libpcap capture file format, written and read without std.
