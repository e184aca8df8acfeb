package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/embedded"
	"github.com/riptide-nids/riptide/kclient"
	"github.com/riptide-nids/riptide/siem"
	"github.com/riptide-nids/riptide/topology"
)

func newBrokerCmd(g *globals) *cobra.Command {
	var listen, dataDir, serverCert, serverKey string
	var mf metricsFlag
	cmd := &cobra.Command{
		Use:   "broker",
		Short: "Serve an embedded Kafka-compatible broker (kfake) for trials and tests",
		Long: `broker runs franz-go's in-process Kafka implementation (kfake) as a standalone broker,
so that riptide's processes and third-party clients (kcat) can talk to it. It keeps
data in memory unless --data-dir is given. It is not Apache Kafka: no replication.

For trying out TLS and SASL: --server-cert and --server-key make it accept TLS only,
and the global --sasl-mechanism, --sasl-username and password (file or
RIPTIDE_SASL_PASSWORD) make it require that one user, as the clients are told to
authenticate.`,
		Example: `  riptide broker --listen 127.0.0.1:9092
  riptide topics create --brokers 127.0.0.1:9092
  kcat -b 127.0.0.1:9092 -L

  # TLS and SCRAM; then give the clients --tls-ca ca.pem and the same SASL settings
  export RIPTIDE_SASL_MECHANISM=scram-sha-256 RIPTIDE_SASL_USERNAME=alice RIPTIDE_SASL_PASSWORD_FILE=pw.txt
  riptide broker --listen 127.0.0.1:9093 --server-cert broker.pem --server-key broker.key &
  riptide topics create --brokers 127.0.0.1:9093 --tls-ca ca.pem
` + metricsExample + `  riptide broker --listen 127.0.0.1:9092 --metrics-addr 127.0.0.1:9400`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := g.logger(os.Stderr)
			if err != nil {
				return err
			}
			o := embedded.Options{Listen: listen, DataDir: dataDir}
			if err := g.brokerSecurity(&o, serverCert, serverKey); err != nil {
				return err
			}
			m, stopMetrics, err := mf.start(cmd.Context(), log)
			if err != nil {
				return err
			}
			defer stopMetrics()
			b, err := embedded.Start(o)
			if err != nil {
				return err
			}
			defer b.Close()
			m.SetReady(true, "")
			log.Info("broker listening", "addrs", strings.Join(b.Addrs(), ","), "tls", o.TLS != nil, "sasl_users", len(o.Users))
			fmt.Println(strings.Join(b.Addrs(), ","))
			<-cmd.Context().Done()
			log.Info("broker stopping")
			return nil
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:9092", "address to listen on")
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "persist data in this directory (default: memory only)")
	cmd.Flags().StringVar(&serverCert, "server-cert", "", "PEM file of the broker's certificate: accept TLS connections only (needs --server-key)")
	cmd.Flags().StringVar(&serverKey, "server-key", "", "PEM file of the broker certificate's private key")
	mf.register(cmd.Flags())
	return cmd
}

func newTopicsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "topics",
		Short: "Create and list riptide's topics",
	}
	var partitions int32
	var replication int
	var retention time.Duration
	var eventBytes int64
	create := &cobra.Command{
		Use:   "create",
		Short: "Create every topic riptide uses (streams, group tables, loops)",
		Long: `create makes every topic of the topology with the given partition count and
replication factor. Existing topics with the same partition count are left alone;
anything else fails loudly and exits non-zero.

Topics stamped with event time (packets, syslog, flows) are retained by size only
(--event-retention-bytes per partition): Kafka judges time retention by record
timestamps, so a replayed capture from last month would be deleted as soon as it
is written. The others keep records for --retention.`,
		Example: `  riptide topics create --brokers kafka1:9092,kafka2:9092 --partitions 24 --replication 3
  riptide topics create --brokers 127.0.0.1:9092 --prefix staging`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			top, kc, err := g.cluster()
			if err != nil {
				return err
			}
			if partitions < 1 {
				return usagef("--partitions %d: must be at least 1", partitions)
			}
			if replication < 1 {
				return usagef("--replication %d: must be at least 1", replication)
			}
			kc.Replication = replication
			kc.Retention = retention
			kc.EventRetentionBytes = eventBytes
			cl, err := kclient.NewClient(kc)
			if err != nil {
				return err
			}
			defer cl.Close()
			ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
			defer cancel()
			if err := kclient.Ping(ctx, cl, kc.Brokers); err != nil {
				return err
			}
			created, err := kclient.CreateTopics(ctx, cl, kc, top.All(), partitions)
			for _, t := range created {
				fmt.Printf("created %s\n", t)
			}
			if err != nil {
				return err
			}
			fmt.Printf("%d topics ready (%d created)\n", len(top.All()), len(created))
			return nil
		},
	}
	create.Flags().Int32Var(&partitions, "partitions", topology.DefaultPartitions, "partitions per topic (caps the members of each consumer group)")
	create.Flags().IntVar(&replication, "replication", 1, "replication factor (3 on a production cluster)")
	create.Flags().DurationVar(&retention, "retention", 7*24*time.Hour, "retention of topics stamped with processing time (features, anomalies, ...)")
	create.Flags().Int64Var(&eventBytes, "event-retention-bytes", 8<<30, "size retention per partition of topics stamped with event time (packets, syslog, flows)")
	list := &cobra.Command{
		Use:     "list",
		Short:   "Print the topology: every topic, its cleanup policy, key and value",
		Example: `  riptide topics list --prefix riptide`,
		Args:    noArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			top, err := g.topology()
			if err != nil {
				return err
			}
			fmt.Printf("%-28s %-8s %-16s %s\n", "TOPIC", "CLEANUP", "KEY", "VALUE")
			for _, t := range top.All() {
				fmt.Printf("%-28s %-8s %-16s %s\n", t.Name, t.Cleanup, t.Key, t.Value)
			}
			fmt.Printf("\ngroups: %s, %s, %s\n", top.Windower, top.Trainer, top.Detector)
			return nil
		},
	}
	cmd.AddCommand(create, list)
	return cmd
}

func newTailCmd(g *globals) *cobra.Command {
	var topic string
	var fromBeginning, asJSON bool
	var format string
	cmd := &cobra.Command{
		Use:   "tail",
		Short: "Follow the anomalies topic",
		Long: `tail prints anomalies as they arrive: one readable line per anomaly with its
reasons, or the raw JSON with --json (one object per line, for jq and SIEM shippers).
--format ocsf prints each as an OCSF 1.8.0 Detection Finding (class 2004), --format
ecs as an Elastic Common Schema alert, --format riptide as --json does.
It reads every partition directly (no consumer group), so it never takes work
from another reader.`,
		Example: `  riptide tail --brokers 127.0.0.1:9092
  riptide tail --brokers 127.0.0.1:9092 --from-beginning --json | jq .host
  riptide tail --brokers 127.0.0.1:9092 --format ocsf >> /var/log/riptide/findings.jsonl`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			top, kc, err := g.cluster()
			if err != nil {
				return err
			}
			var sf siem.Format
			if format != "" {
				if sf, err = siem.ParseFormat(format); err != nil {
					return usagef("--format: %w", err)
				}
			}
			if topic == "" {
				topic = top.Anomalies.Name
			}
			offset := kgo.NewOffset().AtEnd()
			if fromBeginning {
				offset = kgo.NewOffset().AtStart()
			}
			cl, err := kclient.NewClient(kc, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(offset))
			if err != nil {
				return err
			}
			defer cl.Close()
			if err := kclient.Ping(cmd.Context(), cl, kc.Brokers); err != nil {
				return err
			}
			if sf != "" {
				return tailFormat(cmd.Context(), cl, sf)
			}
			return tail(cmd.Context(), cl, asJSON, func(string) {})
		},
	}
	cmd.Flags().StringVar(&topic, "topic", "", "topic to follow (default: the anomalies topic)")
	cmd.Flags().BoolVar(&fromBeginning, "from-beginning", false, "start at the oldest record instead of new ones")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print each anomaly as one line of JSON")
	cmd.Flags().StringVar(&format, "format", "", "print each anomaly as one line of JSON in this format: riptide (as --json), ocsf or ecs")
	return cmd
}

// tail prints anomalies from cl until ctx ends; seen is called with each id.
func tail(ctx context.Context, cl *kgo.Client, asJSON bool, seen func(id string)) error {
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil
		}
		for _, e := range fs.Errors() {
			fmt.Fprintf(os.Stderr, "riptide: tail: %s[%d]: %v\n", e.Topic, e.Partition, e.Err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			a, err := codecs.DecodeAnomaly(r.Value)
			if err != nil {
				fmt.Fprintf(os.Stderr, "riptide: tail: skipping a record that is not an anomaly (%s[%d]@%d): %v\n", r.Topic, r.Partition, r.Offset, err)
				return
			}
			seen(a.ID)
			printAnomaly(a, r.Value, asJSON)
		})
	}
}

func printAnomaly(a *codecs.Anomaly, raw []byte, asJSON bool) {
	if asJSON {
		if raw == nil {
			raw, _ = json.Marshal(a)
		}
		fmt.Println(strings.TrimSpace(string(raw)))
		return
	}
	var why []string
	for _, r := range a.Reasons {
		why = append(why, r.Text)
	}
	fmt.Printf("ALERT %-15s %s–%s score %.2f (threshold %.2f) %s\n      %s\n",
		a.Host, a.WindowStart.Format("2006-01-02 15:04:05"), a.WindowEnd.Format("15:04:05"),
		a.Score, a.Threshold, a.ModelVersion, strings.Join(why, "; "))
}
