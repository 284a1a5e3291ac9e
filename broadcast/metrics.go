package broadcast

import "github.com/prometheus/client_golang/prometheus"

// metrics of the fan-out, registered with Config.Registerer.
type metrics struct {
	sends     *prometheus.CounterVec // result: sent, rate_limited, blocked, failed, retry
	takenOver prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, []error) {
	m := &metrics{
		sends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "citybot_broadcast_sends_total", Help: "News delivery attempts, by result.",
		}, []string{"result"}),
		takenOver: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "citybot_broadcast_claims_taken_over_total", Help: "Deliveries claimed by a stopped instance whose lease this instance ended.",
		}),
	}
	var errs []error
	if reg != nil {
		for _, c := range []prometheus.Collector{m.sends, m.takenOver} {
			if err := reg.Register(c); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return m, errs
}
