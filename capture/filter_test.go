package capture

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/bpf"
)

// tcpPort22 is `tcpdump -i eth0 -ddd tcp port 22` (IPv4 and IPv6, Ethernet).
const tcpPort22 = `20
40 0 0 12
21 0 6 34525
48 0 0 20
21 0 15 6
40 0 0 54
21 12 0 22
40 0 0 56
21 10 11 22
21 0 10 2048
48 0 0 23
21 0 8 6
40 0 0 20
69 6 0 8191
177 0 0 14
72 0 0 14
21 2 0 22
72 0 0 16
21 0 1 22
6 0 0 262144
6 0 0 0
`

func TestCompileFilterDecimal(t *testing.T) {
	prog, err := CompileFilter(tcpPort22, "lo")
	if err != nil {
		t.Fatal(err)
	}
	if len(prog) != 20 || prog[0] != (bpf.RawInstruction{Op: 40, K: 12}) || prog[19] != (bpf.RawInstruction{Op: 6}) {
		t.Errorf("program %v: want the 20 instructions as written", prog)
	}
	// Commas for line breaks (one shell word), the same program.
	oneLine := strings.Join(strings.Split(strings.TrimSpace(tcpPort22), "\n"), ",")
	prog2, err := CompileFilter(oneLine, "lo")
	if err != nil || len(prog2) != len(prog) {
		t.Errorf("comma-separated: %d instructions, %v", len(prog2), err)
	}
	// The kernel runs it: it accepts a TCP/22 frame and rejects UDP.
	vm, err := bpf.NewVM(mustDisassemble(t, prog))
	if err != nil {
		t.Fatal(err)
	}
	frame := func(proto byte, dport uint16) []byte {
		f := make([]byte, 14+20+20)
		f[12], f[13] = 0x08, 0x00
		f[14] = 0x45
		f[14+9] = proto
		f[14+20+2], f[14+20+3] = byte(dport>>8), byte(dport)
		return f
	}
	if n, _ := vm.Run(frame(6, 22)); n == 0 {
		t.Error("filter drops TCP to port 22")
	}
	if n, _ := vm.Run(frame(17, 22)); n != 0 {
		t.Error("filter keeps UDP to port 22")
	}
}

func mustDisassemble(t *testing.T, prog []bpf.RawInstruction) []bpf.Instruction {
	t.Helper()
	insts, ok := bpf.Disassemble(prog)
	if !ok {
		t.Fatal("program does not disassemble")
	}
	return insts
}

func TestCompileFilterErrors(t *testing.T) {
	for _, tt := range []struct{ name, expr, want string }{
		{"count mismatch", "3\n6 0 0 0\n", "says 3 instructions and has 1"},
		{"fields", "1\n6 0 0\n", "has 3 fields"},
		{"range", "1\n6 0 300 0\n", "value out of range"},
		{"no return", "1\n40 0 0 12\n", "does not return"},
	} {
		if _, err := CompileFilter(tt.expr, "lo"); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.want)
		}
	}
	if p, err := CompileFilter("  ", "lo"); p != nil || err != nil {
		t.Errorf("empty filter: %v, %v; want no program", p, err)
	}
	compiled, err := CompileFilter("tcp port 22", "lo")
	if HasLibpcap {
		want, _ := CompileFilter(tcpPort22, "lo")
		if err != nil || !slices.Equal(compiled, want) {
			t.Errorf("with libpcap: %v, %v; want tcpdump's program %v", compiled, err, want)
		}
	} else if !errors.Is(err, ErrNeedLibpcap) {
		t.Errorf("expression without libpcap: %v, want ErrNeedLibpcap", err)
	}
	if _, err := CompileFilter("tcp", "no-such-iface0"); err == nil || !strings.Contains(err.Error(), "no network interface") {
		t.Errorf("unknown interface: %v", err)
	}
}
