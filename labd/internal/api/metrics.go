package api

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/xsky-academy/academy/labd/internal/lab"
)

// Metrics records the lab service's latencies for Prometheus.
type Metrics struct {
	provision *prometheus.HistogramVec
	check     *prometheus.HistogramVec
}

var _ lab.Metrics = (*Metrics)(nil)

// NewMetrics registers labd's histograms in reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		provision: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "labd_provision_seconds",
			Help:    "Time from a lab session's creation until it is ready (or failed).",
			Buckets: []float64{0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 45, 60, 120, 300},
		}, []string{"lab", "result"}),
		check: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "labd_check_seconds",
			Help:    "Time a step's check took to run.",
			Buckets: []float64{0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2, 5, 10, 30, 60},
		}, []string{"lab", "result"}),
	}
	reg.MustRegister(m.provision, m.check)
	return m
}

// Provisioned observes one provisioning.
func (m *Metrics) Provisioned(labID string, d time.Duration, err error) {
	result := "ok"
	if err != nil {
		result = "failed"
	}
	m.provision.WithLabelValues(labID, result).Observe(d.Seconds())
}

// Checked observes one check.
func (m *Metrics) Checked(labID string, d time.Duration, passed bool) {
	result := "passed"
	if !passed {
		result = "failed"
	}
	m.check.WithLabelValues(labID, result).Observe(d.Seconds())
}

// sessionCollector reports live sessions by state and warm-pool sizes at scrape time.
type sessionCollector struct{ labs *lab.Service }

var (
	sessionsDesc = prometheus.NewDesc("labd_sessions", "Lab sessions by state: queued, provisioning, ready (warm-pool sessions included), and ending (ended, environment not yet removed: it holds capacity).", []string{"state"}, nil)
	poolDesc     = prometheus.NewDesc("labd_warm_pool_ready", "Ready lab sessions waiting in a lab's warm pool.", []string{"lab"}, nil)
)

func (c sessionCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- sessionsDesc
	ch <- poolDesc
}

func (c sessionCollector) Collect(ch chan<- prometheus.Metric) {
	byState, pool := c.labs.Stats()
	for st, n := range byState {
		ch <- prometheus.MustNewConstMetric(sessionsDesc, prometheus.GaugeValue, float64(n), string(st))
	}
	for labID, n := range pool {
		ch <- prometheus.MustNewConstMetric(poolDesc, prometheus.GaugeValue, float64(n), labID)
	}
}
