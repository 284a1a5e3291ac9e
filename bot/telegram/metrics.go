package telegram

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	received   *prometheus.CounterVec // source: poll, webhook
	duplicates prometheus.Counter
	handled    *prometheus.CounterVec // outcome
	failed     prometheus.Counter
	panics     prometheus.Counter
	sends      *prometheus.CounterVec // result
	leader     prometheus.Gauge
	latency    prometheus.Histogram
	takenOver  *prometheus.CounterVec // kind: update, outbox
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "citybot_telegram_updates_received_total", Help: "Telegram updates stored by intake.",
		}, []string{"source"}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "citybot_telegram_updates_duplicate_total", Help: "Telegram updates received again and ignored.",
		}),
		handled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "citybot_telegram_updates_handled_total", Help: "Telegram updates handled, by outcome.",
		}, []string{"outcome"}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "citybot_telegram_updates_failed_total", Help: "Telegram updates given up after errors or a panic.",
		}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "citybot_telegram_handler_panics_total", Help: "Panics recovered while handling an update.",
		}),
		sends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "citybot_telegram_sends_total", Help: "Outbox send attempts, by result.",
		}, []string{"result"}),
		leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "citybot_telegram_poller_leader", Help: "1 while this instance is the one polling Telegram.",
		}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "citybot_telegram_update_handling_seconds", Help: "Time to handle one update (engine and storage).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		takenOver: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "citybot_telegram_claims_taken_over_total", Help: "Updates and outbox rows claimed by a stopped instance whose lease this instance ended.",
		}, []string{"kind"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.received, m.duplicates, m.handled, m.failed, m.panics, m.sends, m.leader, m.latency, m.takenOver} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("register metrics: %w", err)
			}
		}
	}
	return m, nil
}
