package main

import (
	"time"

	"github.com/spf13/pflag"

	"github.com/riptide-nids/riptide/processors/trainer"
)

// retrainFlags are the trainer's retraining settings of riptide run.
type retrainFlags struct {
	labels, keep int
	every        time.Duration
}

func (f *retrainFlags) register(fs *pflag.FlagSet) {
	def := trainer.DefaultConfig()
	fs.IntVar(&f.labels, "retrain-labels", def.RetrainLabels, "retrain after this many new labels on the feedback topic; 0 disables")
	fs.DurationVar(&f.every, "retrain-every", def.RetrainEvery, "retrain this long after the last training (processing time); 0 disables")
	fs.IntVar(&f.keep, "keep-models", def.KeepModels, "former champions and rejected challengers whose model is kept for promote and rollback")
}

// apply sets the flags on c; the trainer's Validate checks them.
func (f *retrainFlags) apply(c *trainer.Config) error {
	c.RetrainLabels, c.RetrainEvery, c.KeepModels = f.labels, f.every, f.keep
	if err := c.Validate(); err != nil {
		return usageError{err}
	}
	return nil
}
