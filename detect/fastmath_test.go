package detect

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestFastCosAndExp(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var worstCos, worstExp float64
	for range 200000 {
		x := (rng.Float64() - 0.5) * 2e3
		worstCos = max(worstCos, math.Abs(fastCos(x)-math.Cos(x)))
		e := -rng.Float64() * 700
		want := math.Exp(e)
		if want > 0 {
			worstExp = max(worstExp, math.Abs(fastExp(e)-want)/want)
		}
	}
	for _, x := range []float64{0, math.Pi, -math.Pi, math.Pi / 2, 1e6} {
		worstCos = max(worstCos, math.Abs(fastCos(x)-math.Cos(x)))
	}
	if fastExp(0) != 1 || fastExp(-800) != 0 {
		t.Errorf("fastExp(0) = %v, fastExp(-800) = %v", fastExp(0), fastExp(-800))
	}
	t.Logf("max |fastCos − cos| %.3g, max relative error of fastExp %.3g", worstCos, worstExp)
	if worstCos > 1e-6 || worstExp > 1e-13 {
		t.Errorf("fastCos error %g, fastExp relative error %g", worstCos, worstExp)
	}
}
