package api

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/xsky-academy/academy/labd/internal/lab"
)

// ResourceCollector reports, at scrape time, the host resources labd
// accounts for: what its environments hold by their labs' declared costs,
// and what the host has (memory available, kernel AIO slots in use).
type ResourceCollector struct {
	Labs *lab.Service
	Host lab.Host
}

var (
	committedDesc = prometheus.NewDesc("labd_lab_committed", "Host resources the lab environments hold by their labs' declared costs: memory (bytes), aio (kernel AIO slots).", []string{"resource"}, nil)
	hostDesc      = prometheus.NewDesc("labd_host_resource", "The host's resources as labd reads them: memory_available and memory_total (bytes), aio_in_use and aio_max (kernel AIO slots, fs.aio-nr and fs.aio-max-nr, everyone's).", []string{"resource"}, nil)
)

func (c ResourceCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- committedDesc
	ch <- hostDesc
}

func (c ResourceCollector) Collect(ch chan<- prometheus.Metric) {
	mem, aio := c.Labs.Committed()
	ch <- prometheus.MustNewConstMetric(committedDesc, prometheus.GaugeValue, float64(mem), "memory")
	ch <- prometheus.MustNewConstMetric(committedDesc, prometheus.GaugeValue, float64(aio), "aio")
	if c.Host == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	h, err := c.Host.Resources(ctx)
	if err != nil {
		return
	}
	for name, v := range map[string]int64{"memory_available": h.MemAvailable, "memory_total": h.MemTotal,
		"aio_in_use": h.AIOInUse, "aio_max": h.AIOMax} {
		ch <- prometheus.MustNewConstMetric(hostDesc, prometheus.GaugeValue, float64(v), name)
	}
}
