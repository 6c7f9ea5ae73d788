// handoff.go - the payload of one handoff message: a PROXY protocol v2
// header (PROTOCOL, "One message per client connection"), decoded as
// strictly as libsnitch's proxy_decode, and what a backend may ask of
// it (Handoff).
//
// Runs in the backend's process, on bytes anyone who can connect to the
// socket may send: every function here is pure, refuses rather than
// repairs, and must accept exactly what common/proxyv2.c accepts.

package snitch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
)

const (
	proxyHdrLen   = 16
	proxyVerCmd   = 0x21 // version 2 << 4 | PROXY
	proxyFamTCP4  = 0x11 // AF_INET << 4 | STREAM
	proxyFamTCP6  = 0x21 // AF_INET6 << 4 | STREAM
	proxyAddr4Len = 12   // 4 + 4 + 2 + 2
	proxyAddr6Len = 36   // 16 + 16 + 2 + 2
	tlvHdrLen     = 3    // type, 2-byte length

	tlvAuthority = 0x02
	tlvALPN      = 0xE0
	tlvECH       = 0xE1

	// NameMax is the longest server name (RFC 1035 2.3.4, no root dot).
	NameMax  = 253
	labelMax = 63
	// ALPNMax bounds the ALPN offer kept, as SNITCH_ALPN_MAX.
	ALPNMax = 16384
	// TLVsMax bounds the upstream TLVs kept, in wire form, as
	// SNITCH_TLVS_MAX.
	TLVsMax = 1024
	// helloMsgMax is the largest ClientHello SNItch peeks (HELLO_MSG_MAX).
	helloMsgMax = 16384
	// proxyMax is the largest payload a worker sends (PROXY_MAX):
	// header, IPv6 addresses, authority, ALPN as large as a hello, ECH.
	proxyMax = proxyHdrLen + proxyAddr6Len + tlvHdrLen + NameMax +
		tlvHdrLen + helloMsgMax + tlvHdrLen + 1
)

// TLV types a load balancer's PROXY header may carry (Handoff.TLV).
const (
	TLVALPN     = 0x01 // the protocol the balancer chose
	TLVUniqueID = 0x05 // the balancer's connection id
	TLVNetns    = 0x30 // the balancer's network namespace
	TLVAWS      = 0xEA // AWS VPC endpoint id, after subtype 0x01
	TLVAzure    = 0xEE // Azure link id, after subtype 0x01
)

var proxySig = []byte("\r\n\r\n\x00\r\nQUIT\n")

// errBadHeader is what every refusal of a payload wraps (ErrRefused).
var errBadHeader = errors.New("not one valid PROXY v2 header")

// Handoff is what SNItch's worker said about one client connection.
type Handoff struct {
	// ServerName is the name SNItch routed on: lowercase, no trailing
	// dot, a valid host name; "" when the client sent none (or one that
	// is not a host name, and the connection went to the default).
	ServerName string
	// ALPN is the client's offer, in its order; nil when it made none.
	ALPN []string
	// ECH is true when the ClientHello offered encrypted_client_hello
	// (ServerName is then the outer, public name).
	ECH bool
	// Client is the client's address and port; Local the address and
	// port it connected to.
	Client, Local *net.TCPAddr
	// TLVs holds a load balancer's TLVs that the worker passed on, in
	// wire form (type, 2-byte big-endian length, value), in their
	// order: those that fit whole in TLVsMax bytes.
	TLVs []byte
}

// TLV - the value of h's first upstream TLV of type typ, and whether
// there was one (see TLVUniqueID and the others).
func (h *Handoff) TLV(typ byte) ([]byte, bool) {
	off := 0
	for {
		t, value, next, ok := tlvNext(h.TLVs, off)
		if !ok {
			return nil, false
		}
		if t == typ {
			return value, true
		}
		off = next
	}
}

// tlvNext - the TLV at off of tlvs: its type, value and the offset past
// it; ok false at the end or when what is left is no whole TLV (the one
// walk, as proxy_tlv_next).
func tlvNext(tlvs []byte, off int) (typ byte, value []byte, next int, ok bool) {
	if off >= len(tlvs) || len(tlvs)-off < tlvHdrLen {
		return 0, nil, off, false
	}
	vlen := int(binary.BigEndian.Uint16(tlvs[off+1:]))
	if len(tlvs)-off-tlvHdrLen < vlen {
		return 0, nil, off, false
	}
	next = off + tlvHdrLen + vlen
	return tlvs[off], tlvs[off+tlvHdrLen : next], next, true
}

// tlvsWellFormed - whether tlvs is a sequence of whole TLVs, exactly.
func tlvsWellFormed(tlvs []byte) bool {
	off := 0
	for off < len(tlvs) {
		_, _, next, ok := tlvNext(tlvs, off)
		if !ok {
			return false
		}
		off = next
	}
	return true
}

// decodeHandoff - parse a payload that must be exactly one header.
//
// Layout (PROXY protocol spec 2.2), integers big-endian:
//
//	12  signature  \r\n\r\n\0\r\nQUIT\n
//	 1  0x21       version 2, command PROXY (LOCAL: SNItch never sends it)
//	 1  0x11|0x21  TCP over IPv4 | TCP over IPv6
//	 2  length     of what follows: the rest of the payload, exactly
//	12|36          src addr, dst addr, src port, dst port
//	TLVs filling the rest exactly, type(1) length(2) value:
//	  0x02 authority, 1..253 bytes, no NUL, and a valid host name
//	  0xE0 ALPN, a well-formed non-empty ProtocolNameList body
//	  0xE1 ECH, exactly one byte, 0 or 1
//	  each at most once; any other type kept for Handoff.TLV
func decodeHandoff(buf []byte) (*Handoff, error) {
	if len(buf) < proxyHdrLen || !bytes.Equal(buf[:12], proxySig) ||
		buf[12] != proxyVerCmd {
		return nil, errBadHeader
	}
	var addrLen int
	switch buf[13] {
	case proxyFamTCP4:
		addrLen = proxyAddr4Len
	case proxyFamTCP6:
		addrLen = proxyAddr6Len
	default:
		return nil, errBadHeader
	}
	if int(binary.BigEndian.Uint16(buf[14:])) != len(buf)-proxyHdrLen ||
		len(buf)-proxyHdrLen < addrLen {
		return nil, errBadHeader
	}
	a := buf[proxyHdrLen : proxyHdrLen+addrLen]
	ipLen := (addrLen - 4) / 2
	h := &Handoff{
		Client: &net.TCPAddr{
			IP:   append(net.IP(nil), a[:ipLen]...),
			Port: int(binary.BigEndian.Uint16(a[2*ipLen:])),
		},
		Local: &net.TCPAddr{
			IP:   append(net.IP(nil), a[ipLen:2*ipLen]...),
			Port: int(binary.BigEndian.Uint16(a[2*ipLen+2:])),
		},
	}
	tlvs := buf[proxyHdrLen+addrLen:]
	if !tlvsWellFormed(tlvs) {
		return nil, errBadHeader
	}
	var seenName, seenALPN, seenECH bool
	for off := 0; off < len(tlvs); {
		typ, value, next, _ := tlvNext(tlvs, off)
		off = next
		switch typ {
		case tlvAuthority:
			if seenName || len(value) == 0 || len(value) > NameMax ||
				bytes.IndexByte(value, 0) >= 0 {
				return nil, errBadHeader
			}
			seenName = true
			// The worker sends the name hostname_normalize gave it:
			// anything else did not come from a worker.
			name, ok := normalizeName(value)
			if !ok {
				return nil, errBadHeader
			}
			h.ServerName = name
		case tlvALPN:
			if seenALPN || len(value) == 0 {
				return nil, errBadHeader
			}
			seenALPN = true
			protos, ok := alpnList(value)
			if !ok {
				return nil, errBadHeader
			}
			h.ALPN = protos
		case tlvECH:
			if seenECH || len(value) != 1 || value[0] > 1 {
				return nil, errBadHeader
			}
			seenECH = true
			h.ECH = value[0] == 1
		default:
			h.TLVs = keepTLV(h.TLVs, tlvs[off-tlvHdrLen-len(value):off])
		}
	}
	return h, nil
}

// keepTLV - append one upstream TLV (wire form) to kept if it fits whole
// in TLVsMax: one that does not is left out and later ones are still
// tried, as proxy_tlv_copy does.
func keepTLV(kept, tlv []byte) []byte {
	if len(kept)+len(tlv) > TLVsMax {
		return kept
	}
	return append(kept, tlv...)
}

// alpnList - the protocols of a ProtocolNameList body (RFC 7301 3.1:
// each ProtocolName<1..2^8-1>, the body without its 2-byte length);
// ok false when it is empty, over ALPNMax, or malformed.
func alpnList(body []byte) (protos []string, ok bool) {
	if len(body) == 0 || len(body) > ALPNMax {
		return nil, false
	}
	for off := 0; off < len(body); {
		n := int(body[off])
		if n == 0 || len(body)-off-1 < n {
			return nil, false
		}
		protos = append(protos, string(body[off+1:off+1+n]))
		off += 1 + n
	}
	return protos, true
}

// normalizeName - a host name lowercased, one trailing dot dropped; ok
// false when it is not one, by common/hostname.c's rule: labels of 1..63
// letters, digits and hyphens, no hyphen at either end, at most 253
// bytes, and a last label not all digits (an IPv4 literal, which RFC
// 6066 forbids in SNI).  No unicode package: host names are ASCII.
func normalizeName(in []byte) (string, bool) {
	if len(in) > 0 && in[len(in)-1] == '.' {
		in = in[:len(in)-1]
	}
	if len(in) == 0 || len(in) > NameMax {
		return "", false
	}
	out := make([]byte, len(in))
	digits := false
	start := 0
	for i := 0; i <= len(in); i++ {
		if i < len(in) && in[i] != '.' {
			c := in[i]
			switch {
			case c >= 'A' && c <= 'Z':
				c += 'a' - 'A'
			case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-':
			default:
				return "", false
			}
			out[i] = c
			continue
		}
		label := out[start:i]
		if len(label) == 0 || len(label) > labelMax ||
			label[0] == '-' || label[len(label)-1] == '-' {
			return "", false
		}
		digits = true
		for _, c := range label {
			if c < '0' || c > '9' {
				digits = false
			}
		}
		if i < len(in) {
			out[i] = '.'
		}
		start = i + 1
	}
	if digits {
		return "", false
	}
	return string(out), true
}
