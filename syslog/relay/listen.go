package relay

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"

	"github.com/riptide-nids/riptide/syslog"
)

// Endpoint is one listener address: udp://ADDR, tcp://ADDR or tls://ADDR.
type Endpoint struct {
	Transport string // "udp", "tcp" or "tls"
	Addr      string // host:port
}

func (e Endpoint) String() string { return e.Transport + "://" + e.Addr }

// ParseEndpoints parses a comma-separated list of listener URLs.
func ParseEndpoints(s string) ([]Endpoint, error) {
	var out []Endpoint
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		tr, addr, ok := strings.Cut(part, "://")
		if !ok || (tr != "udp" && tr != "tcp" && tr != "tls") {
			return nil, fmt.Errorf("relay: listener %q: use udp://HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT", part)
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return nil, fmt.Errorf("relay: listener %q: %w", part, err)
		}
		out = append(out, Endpoint{Transport: tr, Addr: addr})
	}
	return out, nil
}

// Listener is a bound listener, ready to Serve.
type Listener struct {
	Endpoint
	pc       net.PacketConn
	ln       net.Listener
	maxConns int
}

// Addr returns the bound address (useful with port 0).
func (l *Listener) Addr() net.Addr {
	if l.pc != nil {
		return l.pc.LocalAddr()
	}
	return l.ln.Addr()
}

// ListenConfig holds what binding needs besides the endpoint.
type ListenConfig struct {
	// TLS is the server configuration of tls:// listeners (required for
	// them).
	TLS *tls.Config
	// UDPBuffer is the socket receive buffer of udp:// listeners in bytes
	// (0: the system default). The kernel caps it at net.core.rmem_max.
	UDPBuffer int
	// MaxConns bounds the connections a tcp:// or tls:// listener serves at
	// once (default DefaultMaxConns); while that many are open, it accepts
	// no more (they wait in the kernel's backlog). Each costs a 64 KiB read
	// buffer plus up to the message size limit.
	MaxConns int
}

// DefaultMaxConns is the default ListenConfig.MaxConns.
const DefaultMaxConns = 1024

// Listen binds e.
func Listen(ctx context.Context, e Endpoint, lc ListenConfig) (*Listener, error) {
	var nlc net.ListenConfig
	switch e.Transport {
	case "udp":
		pc, err := nlc.ListenPacket(ctx, "udp", e.Addr)
		if err != nil {
			return nil, fmt.Errorf("relay: listen %s: %w", e, err)
		}
		if lc.UDPBuffer > 0 {
			if uc, ok := pc.(*net.UDPConn); ok {
				if err := uc.SetReadBuffer(lc.UDPBuffer); err != nil {
					_ = pc.Close()
					return nil, fmt.Errorf("relay: %s: receive buffer %d: %w", e, lc.UDPBuffer, err)
				}
			}
		}
		return &Listener{Endpoint: e, pc: pc}, nil
	case "tcp", "tls":
		if e.Transport == "tls" && lc.TLS == nil {
			return nil, fmt.Errorf("relay: %s: a TLS listener needs a certificate and key", e)
		}
		ln, err := nlc.Listen(ctx, "tcp", e.Addr)
		if err != nil {
			return nil, fmt.Errorf("relay: listen %s: %w", e, err)
		}
		if e.Transport == "tls" {
			ln = tls.NewListener(ln, lc.TLS)
		}
		if lc.MaxConns <= 0 {
			lc.MaxConns = DefaultMaxConns
		}
		return &Listener{Endpoint: e, ln: ln, maxConns: lc.MaxConns}, nil
	}
	return nil, fmt.Errorf("relay: unknown transport %q", e.Transport)
}

// Serve receives messages on l and hands them to r until ctx ends, then
// closes l (and every connection) and returns nil; other errors are
// returned. A UDP datagram is one message (a trailing newline is dropped);
// TCP and TLS streams are split by syslog.Framer.
func (r *Relay) Serve(ctx context.Context, l *Listener) error {
	stop := context.AfterFunc(ctx, func() {
		if l.pc != nil {
			_ = l.pc.Close()
		} else {
			_ = l.ln.Close()
		}
	})
	defer stop()
	if l.pc != nil {
		return r.serveUDP(ctx, l)
	}
	return r.serveStream(ctx, l)
}

func (r *Relay) serveUDP(ctx context.Context, l *Listener) error {
	uc, ok := l.pc.(*net.UDPConn)
	if !ok {
		return fmt.Errorf("relay: %s: not a UDP socket", l.Endpoint)
	}
	p := r.NewParser()
	buf := make([]byte, 64<<10)
	name := uc.LocalAddr().String()
	for {
		n, from, err := uc.ReadFromUDPAddrPort(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("relay: %s: %w", l.Endpoint, err)
		}
		b := buf[:n]
		for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r' || b[len(b)-1] == 0) {
			b = b[:len(b)-1]
		}
		if len(b) == 0 {
			continue
		}
		var ferr error
		if len(b) > r.cfg.MaxSize {
			ferr = fmt.Errorf("%w: a datagram of %d octets, limit %d", syslog.ErrOversized, len(b), r.cfg.MaxSize)
			b = b[:r.cfg.MaxSize]
		}
		r.Handle(ctx, p, b, Source{Transport: "udp", Peer: from, Name: name}, ferr)
	}
}

func (r *Relay) serveStream(ctx context.Context, l *Listener) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	name := l.ln.Addr().String()
	slots := make(chan struct{}, l.maxConns)
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		c, err := l.ln.Accept()
		if err != nil {
			<-slots
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("relay: %s: %w", l.Endpoint, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			r.serveConn(ctx, c, l.Transport, name)
		}()
	}
}

func (r *Relay) serveConn(ctx context.Context, c net.Conn, transport, name string) {
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	defer stop()
	defer func() { _ = c.Close() }()
	var peer netip.AddrPort
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		peer = ta.AddrPort()
	}
	src := Source{Transport: transport, Peer: peer, Name: name}
	p := r.NewParser()
	f := syslog.NewFramer(c, r.cfg.MaxSize)
	for {
		b, err := f.Next()
		switch {
		case err == nil, errors.Is(err, syslog.ErrOversized):
			r.Handle(ctx, p, b, src, err)
			continue
		case errors.Is(err, syslog.ErrTruncated):
			r.Handle(ctx, p, b, src, err)
		case errors.Is(err, io.EOF), ctx.Err() != nil:
		default:
			r.log.Warn("syslog: connection ended", "transport", transport, "peer", peer, "err", err)
		}
		return
	}
}
