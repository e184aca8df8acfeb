package capture

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/net/bpf"
)

// ErrNeedLibpcap is returned by CompileFilter for a filter expression in
// tcpdump syntax when the binary was built without libpcap.
var ErrNeedLibpcap = errors.New("capture: this riptide was built without libpcap, so it cannot compile tcpdump filter expressions: " +
	"pass the compiled program instead, --bpf \"$(tcpdump -i IFACE -ddd 'EXPR')\", or build with -tags pcap (needs libpcap-dev and cgo)")

// CompileFilter turns the --bpf value into a classic BPF program for
// frames of iface. It accepts a program compiled by `tcpdump -ddd` (its
// output as is: the instruction count, then one "code jt jf k" line per
// instruction; commas may stand for the line breaks), which needs no
// libpcap, or a tcpdump filter expression such as "tcp port 22", which is
// compiled with libpcap when riptide was built with the pcap build tag and
// is ErrNeedLibpcap otherwise. An empty expression is no filter.
func CompileFilter(expr, iface string) ([]bpf.RawInstruction, error) {
	expr = strings.TrimSpace(expr)
	if expr == "" {
		return nil, nil
	}
	if prog, ok, err := parseDecimal(expr); ok {
		return prog, err
	}
	link, err := linkType(iface)
	if err != nil {
		return nil, err
	}
	return compileExpr(expr, link)
}

// parseDecimal parses tcpdump -ddd output (at most 4096 instructions, the
// kernel's BPF_MAXINSNS). ok is false when expr does not
// start with a number (then it is an expression).
func parseDecimal(expr string) (prog []bpf.RawInstruction, ok bool, err error) {
	lines := strings.FieldsFunc(expr, func(r rune) bool { return r == '\n' || r == ',' || r == ';' })
	if len(lines) == 0 {
		return nil, false, nil
	}
	n, cerr := strconv.Atoi(strings.TrimSpace(lines[0]))
	if cerr != nil {
		return nil, false, nil
	}
	bad := func(format string, a ...any) ([]bpf.RawInstruction, bool, error) {
		return nil, true, fmt.Errorf("capture: --bpf: "+format+" (want the output of tcpdump -ddd: a count, then \"code jt jf k\" per instruction)", a...)
	}
	if n <= 0 || n > 4096 || len(lines)-1 != n {
		return bad("the program says %d instructions and has %d", n, len(lines)-1)
	}
	for i, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) != 4 {
			return bad("instruction %d %q has %d fields", i+1, l, len(f))
		}
		var v [4]uint64
		for j, s := range f {
			bits := []int{16, 8, 8, 32}[j]
			x, perr := strconv.ParseUint(s, 10, bits)
			if perr != nil {
				return bad("instruction %d %q: %v", i+1, l, perr)
			}
			v[j] = x
		}
		prog = append(prog, bpf.RawInstruction{Op: uint16(v[0]), Jt: uint8(v[1]), Jf: uint8(v[2]), K: uint32(v[3])})
	}
	// Check that the program is one the kernel will take: x/net/bpf
	// disassembles every instruction it knows; the last must return.
	insts, allDecoded := bpf.Disassemble(prog)
	if !allDecoded {
		return bad("an instruction is not classic BPF")
	}
	switch insts[len(insts)-1].(type) {
	case bpf.RetA, bpf.RetConstant:
	default:
		return bad("the last instruction does not return")
	}
	return prog, true, nil
}
