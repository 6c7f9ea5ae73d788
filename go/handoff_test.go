// handoff_test.go - decodeHandoff and normalizeName from tables: each
// row a label, the payload, and what a backend must get (or a refusal).

package snitch

import (
	"bytes"
	"encoding/binary"
	"net"
	"strings"
	"testing"
)

// tlv - one TLV in wire form.
func tlv(typ byte, value []byte) []byte {
	out := []byte{typ, byte(len(value) >> 8), byte(len(value))}
	return append(out, value...)
}

// header - a PROXY v2 header from client to local with tlvs after the
// addresses, its length field set to what follows.
func header(client, local *net.TCPAddr, tlvs ...[]byte) []byte {
	b := append([]byte(nil), proxySig...)
	b = append(b, proxyVerCmd, proxyFamTCP4, 0, 0)
	c4, l4 := client.IP.To4(), local.IP.To4()
	if c4 != nil && l4 != nil {
		b = append(b, c4...)
		b = append(b, l4...)
	} else {
		b[13] = proxyFamTCP6
		b = append(b, client.IP.To16()...)
		b = append(b, local.IP.To16()...)
	}
	b = binary.BigEndian.AppendUint16(b, uint16(client.Port))
	b = binary.BigEndian.AppendUint16(b, uint16(local.Port))
	for _, t := range tlvs {
		b = append(b, t...)
	}
	binary.BigEndian.PutUint16(b[14:], uint16(len(b)-proxyHdrLen))
	return b
}

var (
	client4 = &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1).To4(), Port: 50000}
	local4  = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1).To4(), Port: 443}
	client6 = &net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 1}
	local6  = &net.TCPAddr{IP: net.ParseIP("::1"), Port: 65535}
)

// alpnBody - a ProtocolNameList body of protos.
func alpnBody(protos ...string) []byte {
	var b []byte
	for _, p := range protos {
		b = append(b, byte(len(p)))
		b = append(b, p...)
	}
	return b
}

// withLen - b with its length field set to n (a lie, for refusals).
func withLen(b []byte, n int) []byte {
	b = append([]byte(nil), b...)
	binary.BigEndian.PutUint16(b[14:], uint16(n))
	return b
}

func TestDecodeValid(t *testing.T) {
	bigTLV := tlv(0x30, bytes.Repeat([]byte{'n'}, 900))
	rows := []struct {
		label   string
		payload []byte
		want    Handoff
	}{
		{"IPv4, no TLV", header(client4, local4),
			Handoff{Client: client4, Local: local4}},
		{"IPv6, name, ALPN, ECH", header(client6, local6,
			tlv(tlvAuthority, []byte("alpha.localhost")),
			tlv(tlvALPN, alpnBody("h2", "http/1.1")),
			tlv(tlvECH, []byte{1})),
			Handoff{ServerName: "alpha.localhost",
				ALPN: []string{"h2", "http/1.1"}, ECH: true,
				Client: client6, Local: local6}},
		{"name lowercased, one trailing dot dropped", header(client4,
			local4, tlv(tlvAuthority, []byte("WWW.Example.ORG."))),
			Handoff{ServerName: "www.example.org", Client: client4,
				Local: local4}},
		{"ECH 0", header(client4, local4, tlv(tlvECH, []byte{0})),
			Handoff{Client: client4, Local: local4}},
		{"upstream TLVs kept in order, SNItch's left out",
			header(client4, local4, tlv(TLVUniqueID, []byte("id-1")),
				tlv(tlvAuthority, []byte("a.example")),
				tlv(TLVAWS, []byte{1, 'v', 'p', 'c'})),
			Handoff{ServerName: "a.example", Client: client4,
				Local: local4, TLVs: append(tlv(TLVUniqueID,
					[]byte("id-1")), tlv(TLVAWS,
					[]byte{1, 'v', 'p', 'c'})...)}},
		{"a TLV that does not fit TLVsMax left out, the next kept",
			header(client4, local4, bigTLV, bigTLV,
				tlv(TLVUniqueID, []byte("x"))),
			Handoff{Client: client4, Local: local4,
				TLVs: append(append([]byte(nil), bigTLV...),
					tlv(TLVUniqueID, []byte("x"))...)}},
	}
	for _, row := range rows {
		t.Run(row.label, func(t *testing.T) {
			h, err := decodeHandoff(row.payload)
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if h.ServerName != row.want.ServerName || h.ECH != row.want.ECH ||
				strings.Join(h.ALPN, ",") != strings.Join(row.want.ALPN, ",") ||
				h.Client.String() != row.want.Client.String() ||
				h.Local.String() != row.want.Local.String() ||
				!bytes.Equal(h.TLVs, row.want.TLVs) {
				t.Fatalf("got %+v, want %+v", *h, row.want)
			}
		})
	}
}

func TestDecodeRefused(t *testing.T) {
	ok := header(client4, local4)
	local := append([]byte(nil), ok...)
	local[12] = 0x20
	udp := append([]byte(nil), ok...)
	udp[13] = 0x12
	unix := append([]byte(nil), ok...)
	unix[13] = 0x31
	sig := append([]byte(nil), ok...)
	sig[0] = 'X'
	rows := []struct {
		label   string
		payload []byte
	}{
		{"empty", nil},
		{"15 bytes", ok[:15]},
		{"not a PROXY header", []byte("GET / HTTP/1.0\r\n\r\n")},
		{"bad signature", sig},
		{"LOCAL command", local},
		{"UDP", udp},
		{"AF_UNIX", unix},
		{"length one short", withLen(ok, len(ok)-proxyHdrLen-1)},
		{"length one long", withLen(ok, len(ok)-proxyHdrLen+1)},
		{"a byte after the header", append(append([]byte(nil), ok...), 0)},
		{"IPv4 addresses cut", withLen(ok[:20], 4)},
		{"TLV header cut", header(client4, local4, []byte{0x05, 0})},
		{"TLV value overruns", header(client4, local4,
			[]byte{0x05, 0, 9, 'a'})},
		{"authority empty", header(client4, local4, tlv(tlvAuthority, nil))},
		{"authority twice", header(client4, local4,
			tlv(tlvAuthority, []byte("a.example")),
			tlv(tlvAuthority, []byte("b.example")))},
		{"authority with NUL", header(client4, local4,
			tlv(tlvAuthority, []byte("a\x00.example")))},
		{"authority of 254 bytes", header(client4, local4,
			tlv(tlvAuthority, bytes.Repeat([]byte{'a'}, 254)))},
		{"authority an IPv4 literal", header(client4, local4,
			tlv(tlvAuthority, []byte("192.0.2.1")))},
		{"authority with a space", header(client4, local4,
			tlv(tlvAuthority, []byte("a b.example")))},
		{"authority a wildcard", header(client4, local4,
			tlv(tlvAuthority, []byte("*.example")))},
		{"ALPN empty", header(client4, local4, tlv(tlvALPN, nil))},
		{"ALPN twice", header(client4, local4,
			tlv(tlvALPN, alpnBody("h2")), tlv(tlvALPN, alpnBody("h2")))},
		{"ALPN a zero-length name", header(client4, local4,
			tlv(tlvALPN, []byte{0}))},
		{"ALPN name overruns", header(client4, local4,
			tlv(tlvALPN, []byte{5, 'h', '2'}))},
		{"ALPN over ALPNMax", header(client4, local4, tlv(tlvALPN,
			bytes.Repeat(alpnBody(strings.Repeat("x", 200)), 82)))},
		{"ECH of two bytes", header(client4, local4,
			tlv(tlvECH, []byte{1, 1}))},
		{"ECH 2", header(client4, local4, tlv(tlvECH, []byte{2}))},
		{"ECH twice", header(client4, local4, tlv(tlvECH, []byte{1}),
			tlv(tlvECH, []byte{1}))},
	}
	for _, row := range rows {
		t.Run(row.label, func(t *testing.T) {
			if h, err := decodeHandoff(row.payload); err == nil {
				t.Fatalf("accepted: %+v", *h)
			}
		})
	}
}

func TestNormalizeName(t *testing.T) {
	rows := []struct{ in, want string }{
		{"alpha.localhost", "alpha.localhost"},
		{"ALPHA.LocalHost.", "alpha.localhost"},
		{"a-b.c1", "a-b.c1"},
		{"1.example", "1.example"},
		{strings.Repeat("a", 63) + ".x", strings.Repeat("a", 63) + ".x"},
		{strings.Repeat("a.", 126) + "a", strings.Repeat("a.", 126) + "a"},
		{"", ""},
		{".", ""},
		{"a..b", ""},
		{"a.b..", ""},
		{"-a.example", ""},
		{"a-.example", ""},
		{strings.Repeat("a", 64) + ".x", ""},
		{strings.Repeat("a.", 127), strings.Repeat("a.", 126) + "a"},
		{strings.Repeat("a.", 127) + "a", ""},
		{"10.0.0.1", ""},
		{"example.123", ""},
		{"::1", ""},
		{"caf\xc3\xa9.example", ""},
		{"a_b.example", ""},
	}
	for _, row := range rows {
		got, ok := normalizeName([]byte(row.in))
		if got != row.want || ok != (row.want != "") {
			t.Errorf("%q: got %q %v, want %q", row.in, got, ok, row.want)
		}
	}
}

func TestTLV(t *testing.T) {
	h := &Handoff{TLVs: append(tlv(TLVUniqueID, []byte("one")),
		tlv(TLVUniqueID, []byte("two"))...)}
	if v, ok := h.TLV(TLVUniqueID); !ok || string(v) != "one" {
		t.Fatalf("first unique id: %q %v", v, ok)
	}
	if _, ok := h.TLV(TLVAzure); ok {
		t.Fatal("an absent type found")
	}
	h.TLVs = append(h.TLVs, 0x30, 0)
	if _, ok := h.TLV(0x30); ok {
		t.Fatal("a cut TLV found")
	}
}
