package pipeline

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/riptide-nids/riptide/kclient"
)

// DefaultLagInterval is how often a pipeline with metrics polls the consumer
// lag of its groups.
const DefaultLagInterval = 10 * time.Second

// groups returns the consumer groups this pipeline runs.
func (p *Pipeline) groups() []string {
	var gs []string
	if p.Windower != nil {
		gs = append(gs, string(p.top.Windower))
	}
	if p.Trainer != nil {
		gs = append(gs, string(p.top.Trainer))
	}
	if p.Detector != nil {
		gs = append(gs, string(p.top.Detector))
	}
	return gs
}

// pollLag sets riptide_consumer_lag for every group of the pipeline until
// ctx ends: every LagInterval it asks the cluster for the groups' committed
// offsets and the partitions' end offsets (kadm's Lag: DescribeGroups,
// OffsetFetch, ListOffsets; three small requests, whatever the traffic).
// Lag is measured against committed offsets, as Kafka's own tools do, so
// it also grows while a processor is down or rebuilding, which is when it
// matters; goka commits every second, so a busy partition shows up to a
// second of records. Every process running a group reports the group's
// whole lag: aggregate with max by (group, topic, partition).
func (p *Pipeline) pollLag(ctx context.Context) {
	every := p.cfg.LagInterval
	if every <= 0 {
		every = DefaultLagInterval
	}
	cl, err := kclient.NewClient(p.cfg.Kafka)
	if err != nil {
		p.log.Warn("pipeline: consumer lag will not be reported", "err", err)
		return
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	groups := p.groups()
	failing := false
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := p.pollLagOnce(ctx, adm, groups, every)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil && !failing:
			p.log.Warn("pipeline: polling consumer lag", "err", err)
		case err == nil && failing:
			p.log.Info("pipeline: polling consumer lag works again")
		}
		failing = err != nil
	}
}

func (p *Pipeline) pollLagOnce(ctx context.Context, adm *kadm.Client, groups []string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	lags, err := adm.Lag(ctx, groups...)
	if err != nil {
		return err
	}
	var firstErr error
	for _, g := range groups {
		l, ok := lags[g]
		if !ok {
			continue
		}
		if err := l.Error(); err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		out := make(map[string]map[int32]int64)
		for topic, parts := range l.Lag {
			for part, ml := range parts {
				if ml.Err != nil || ml.Lag < 0 {
					continue
				}
				if out[topic] == nil {
					out[topic] = make(map[int32]int64)
				}
				out[topic][part] = ml.Lag
			}
		}
		p.cfg.Metrics.SetLag(g, out)
	}
	return firstErr
}
