package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// PKI is a throwaway certificate authority made for one test, with a server
// certificate and a client certificate it signed. Nothing is written to disk
// unless the test does.
type PKI struct {
	// CA is the authority's certificate (PEM).
	CA []byte
	// Server is the broker's certificate and key, also in PEM.
	Server                tls.Certificate
	ServerCert, ServerKey []byte
	// ClientCert and ClientKey are a client certificate and key (PEM).
	ClientCert, ClientKey []byte
	pool                  *x509.CertPool
}

// NewPKI makes a CA and a server certificate for names (DNS names or IP
// addresses; default 127.0.0.1 and localhost) and a client certificate.
func NewPKI(tb testing.TB, names ...string) *PKI {
	tb.Helper()
	if len(names) == 0 {
		names = []string{"127.0.0.1", "localhost"}
	}
	caKey, caCert, caDER := newCert(tb, "riptide test CA", nil, nil, nil)
	p := &PKI{CA: pemBlock("CERTIFICATE", caDER), pool: x509.NewCertPool()}
	p.pool.AddCert(caCert)
	srvKey, _, srvDER := newCert(tb, "riptide test broker", names, caCert, caKey)
	p.Server = tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}
	p.ServerCert, p.ServerKey = pemBlock("CERTIFICATE", srvDER), pemKey(tb, srvKey)
	cliKey, _, cliDER := newCert(tb, "riptide test client", nil, caCert, caKey)
	p.ClientCert, p.ClientKey = pemBlock("CERTIFICATE", cliDER), pemKey(tb, cliKey)
	return p
}

func pemKey(tb testing.TB, k *ecdsa.PrivateKey) []byte {
	tb.Helper()
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		tb.Fatal(err)
	}
	return pemBlock("EC PRIVATE KEY", der)
}

// newCert makes an ECDSA key and a certificate for it, self-signed when
// parent is nil (a CA), else a leaf for names signed by parent.
func newCert(tb testing.TB, cn string, names []string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*ecdsa.PrivateKey, *x509.Certificate, []byte) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}
	signer := key
	if parent == nil {
		tmpl.IsCA = true
		tmpl.BasicConstraintsValid = true
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
		parent = tmpl
	} else {
		signer = parentKey
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
		for _, n := range names {
			if ip := net.ParseIP(n); ip != nil {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			} else {
				tmpl.DNSNames = append(tmpl.DNSNames, n)
			}
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return key, cert, der
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// SecureOptions configure SecureKafka.
type SecureOptions struct {
	// Names are the server certificate's names (default 127.0.0.1 and
	// localhost).
	Names []string
	// RequireClientCert makes the broker demand a certificate signed by the
	// test CA (mutual TLS).
	RequireClientCert bool
	// Opts are further kfake options (seed topics, broker configs).
	Opts []kfake.Opt
}

// Secure is a running kfake cluster that speaks TLS and requires SASL.
type Secure struct {
	Addrs []string
	PKI   *PKI
	// User and Password are valid for PLAIN, SCRAM-SHA-256 and
	// SCRAM-SHA-512. The password is random per cluster.
	User, Password string
	Cluster        *kfake.Cluster
}

// SecureKafka starts a one-broker kfake cluster with TLS (a fresh PKI) and
// SASL for the rest of the test.
func SecureKafka(tb testing.TB, o SecureOptions) *Secure {
	tb.Helper()
	p := NewPKI(tb, o.Names...)
	pw := make([]byte, 12)
	if _, err := rand.Read(pw); err != nil {
		tb.Fatal(err)
	}
	s := &Secure{PKI: p, User: "riptide-test", Password: hex.EncodeToString(pw)}
	tc := &tls.Config{Certificates: []tls.Certificate{p.Server}, MinVersion: tls.VersionTLS12}
	if o.RequireClientCert {
		tc.ClientAuth = tls.RequireAndVerifyClientCert
		tc.ClientCAs = p.pool
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.TLS(tc),
		kfake.EnableSASL(),
		kfake.Superuser("PLAIN", s.User, s.Password),
		kfake.Superuser("SCRAM-SHA-256", s.User, s.Password),
		kfake.Superuser("SCRAM-SHA-512", s.User, s.Password),
	}
	c, err := kfake.NewCluster(append(opts, o.Opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.Close)
	s.Cluster = c
	s.Addrs = c.ListenAddrs()
	return s
}
