// Package embedded runs an in-process Kafka-compatible broker (franz-go's
// kfake) for the demo, quick trials (`riptide broker`) and fast tests. It is
// not Apache Kafka: it has no replication and keeps data in memory unless a
// data directory is given. Production runs against a real cluster.
package embedded

import (
	"crypto/tls"
	"fmt"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Broker is a running embedded broker.
type Broker struct {
	c *kfake.Cluster
}

// Options configure Start.
type Options struct {
	// Listen is the address to listen on (host:port); empty picks a free
	// loopback port.
	Listen string
	// DataDir, when set, persists the broker's data across restarts.
	DataDir string
	// TLS, when set, makes the broker accept only TLS connections; it
	// needs the server certificate.
	TLS *tls.Config
	// Users, when any, make the broker require SASL authentication as one
	// of them.
	Users []User
}

// User is a SASL user of the embedded broker.
type User struct {
	// Mechanism is PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.
	Mechanism      string
	Name, Password string
}

// Start starts a single-node broker.
func Start(o Options) (*Broker, error) {
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.DefaultNumPartitions(12),
		kfake.BrokerConfigs(map[string]string{"message.max.bytes": fmt.Sprint(16 << 20)}),
		kfake.GroupMinSessionTimeout(500 * time.Millisecond),
	}
	if o.Listen != "" {
		addr := o.Listen
		opts = append(opts, kfake.ListenFn(func(network, _ string) (net.Listener, error) {
			return net.Listen(network, addr)
		}))
	}
	if o.DataDir != "" {
		opts = append(opts, kfake.DataDir(o.DataDir))
	}
	if o.TLS != nil {
		opts = append(opts, kfake.TLS(o.TLS))
	}
	if len(o.Users) > 0 {
		opts = append(opts, kfake.EnableSASL())
		for _, u := range o.Users {
			opts = append(opts, kfake.Superuser(u.Mechanism, u.Name, u.Password))
		}
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("embedded: start broker: %w", err)
	}
	return &Broker{c: c}, nil
}

// Addrs returns the addresses clients connect to.
func (b *Broker) Addrs() []string { return b.c.ListenAddrs() }

// Close stops the broker.
func (b *Broker) Close() { b.c.Close() }

// Cluster exposes the underlying kfake cluster for fault injection in tests.
func (b *Broker) Cluster() *kfake.Cluster { return b.c }
