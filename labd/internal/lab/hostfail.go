package lab

// Setups that fail because of the host, not the lab: the trainee is told so
// in their language, and the session is retried once, through the line.

import (
	"errors"
	"strings"
)

// ShortPIDs: the host (or the node) could not make another process or thread.
const ShortPIDs Shortage = "pids"

// hostCause returns what the host lacked when err, a setup's failure, came
// from the host rather than the lab: the kernel's AIO slots (io_setup
// EAGAIN, as a BlueStore OSD reports it), memory, or processes.
func hostCause(err error) Shortage {
	switch causeOf(err) {
	case CauseOOM:
		return ShortMemory
	case CauseNoPIDs:
		return ShortPIDs
	}
	m := err.Error()
	switch {
	case strings.Contains(m, "io_setup(2) failed") || strings.Contains(m, "aio-max-nr"):
		return ShortAIO
	case strings.Contains(m, "Cannot allocate memory") || strings.Contains(m, "std::bad_alloc") ||
		strings.Contains(m, "exit code 137"):
		return ShortMemory
	case strings.Contains(m, "fork: retry") || strings.Contains(m, "fork: Resource temporarily unavailable") ||
		strings.Contains(m, "pthread_create failed") || strings.Contains(m, "Thread::try_create"):
		return ShortPIDs
	}
	return ShortNone
}

// Notice is what the trainee is told about their session beyond its state,
// in both languages (the page shows its own).
type Notice struct {
	Cause Shortage
	ZH    string
	EN    string
	// Retrying: the session waits in line to be provisioned again.
	Retrying bool
}

func hostNotice(cause Shortage, retrying bool) *Notice {
	var zh, en string
	switch cause {
	case ShortAIO:
		zh, en = "服务器的内核异步 I/O 槽位（fs.aio-max-nr）暂时用完了", "the server ran out of kernel asynchronous I/O slots (fs.aio-max-nr) for now"
	case ShortMemory:
		zh, en = "服务器的内存暂时不够", "the server ran short of memory for now"
	default:
		zh, en = "服务器暂时无法再创建进程", "the server could not start more processes for now"
	}
	n := &Notice{Cause: cause, Retrying: retrying}
	if retrying {
		n.ZH = "实验环境没能启动：" + zh + "，这不是你的操作造成的。已自动排队重试，轮到时会自动启动，无需任何操作。"
		n.EN = "Your lab could not start: " + en + "; nothing you did caused it. It is queued to be retried automatically and starts by itself when its turn comes; there is nothing to do."
	} else {
		n.ZH = "实验环境重试后仍没能启动：" + zh + "。请稍后再开始此实验，或联系讲师。"
		n.EN = "Your lab could not start after a retry: " + en + ". Start the lab again later, or ask your lecturer."
	}
	return n
}

// retryLocked handles a trainee's failed provisioning: when the host caused
// it, the first time, e goes back to the head of the line (its environment
// is gone) and retryLocked returns true; the second time err becomes the
// notice's message, not the daemon's.
func (s *Service) retryLocked(e *entry, err error, envLeft bool) (bool, error) {
	cause := hostCause(err)
	if cause == ShortNone || e.s.Owner == "" {
		return false, err
	}
	if !e.retried && !envLeft {
		e.retried = true
		e.s.State, e.s.Notice = Queued, hostNotice(cause, true)
		s.queue = append([]string{e.s.ID}, s.queue...)
		return true, nil
	}
	// Stored as the reason, in both languages (a notice is not stored).
	e.s.Notice = hostNotice(cause, false)
	return false, errors.New(e.s.Notice.ZH + " / " + e.s.Notice.EN)
}

// hostHint names, for hostCause, a host shortage that a setup's whole
// output reports but its last lines may not.
func hostHint(out []byte) string {
	for _, m := range []string{"io_setup(2) failed", "Cannot allocate memory", "fork: retry", "pthread_create failed"} {
		if strings.Contains(string(out), m) {
			return " (" + m + ")"
		}
	}
	return ""
}
