package detect

// scaledSGD holds the weights of averaged SGD for an L2-regularised linear
// model, stored as scale·w so that the shrink of every step costs O(1), and
// the running average of its iterates.
type scaledSGD struct {
	w, avg []float64
	scale  float64
}

func newScaledSGD(w, avg []float64) scaledSGD { return scaledSGD{w: w, avg: avg, scale: 1} }

// dot returns the true weights · z.
func (s *scaledSGD) dot(z []float64) float64 { return s.scale * dot(s.w, z) }

// shrink multiplies the true weights by f.
func (s *scaledSGD) shrink(f float64) { s.scale *= f }

// add adds c·z to the true weights.
func (s *scaledSGD) add(c float64, z []float64) {
	f := c / s.scale
	for k, v := range z {
		s.w[k] += f * v
	}
}

// renorm folds a small scale back into w before it underflows.
func (s *scaledSGD) renorm() {
	if s.scale < 1e-9 {
		for k := range s.w {
			s.w[k] *= s.scale
		}
		s.scale = 1
	}
}

// average moves the running average towards the current weights with
// weight f.
func (s *scaledSGD) average(f float64) {
	for k := range s.avg {
		s.avg[k] += f * (s.scale*s.w[k] - s.avg[k])
	}
}

// oneClassStep takes one SGD step of the linear one-class SVM
// ((ν/2)‖w‖² − νρ + max(0, ρ − w·z)) with step eta and returns the new ρ.
func oneClassStep(s *scaledSGD, rho float64, z []float64, eta, nu float64) float64 {
	margin := s.dot(z) - rho
	s.shrink(1 - eta*nu)
	if margin < 0 {
		s.add(eta, z)
		rho += eta * (nu - 1)
	} else {
		rho += eta * nu
	}
	s.renorm()
	return rho
}
