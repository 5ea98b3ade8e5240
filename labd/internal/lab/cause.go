package lab

import (
	"errors"
	"fmt"
)

// Cause is why a command in a node could not start or was cut short, as the
// runtime saw it. A check that fails for such a reason says so to the
// trainee instead of showing nothing.
type Cause string

const (
	CauseNotRunning Cause = "not_running" // the node is stopped, paused or gone
	CauseNoPIDs     Cause = "no_pids"     // the node's process limit is reached: nothing new can start
	CauseOOM        Cause = "oom"         // the node is out of memory: the command was killed
	CauseKilled     Cause = "killed"      // the command was killed (SIGKILL) by something else
	causeTimeout    Cause = "timeout"     // the command ran past its timeout (Result.TimedOut)
)

// NodeError is returned by a Runtime's Exec when the command could not run
// in the node at all.
type NodeError struct {
	Node  string
	Cause Cause // empty when the runtime cannot tell
	Err   error
}

// Error is Err's message, which names the node.
func (e *NodeError) Error() string { return e.Err.Error() }

func (e *NodeError) Unwrap() error { return e.Err }

// causeOf returns the Cause of an Exec error, "" when it has none.
func causeOf(err error) Cause {
	var ne *NodeError
	if errors.As(err, &ne) {
		return ne.Cause
	}
	return ""
}

// Languages of the trainee's messages.
const (
	LangZh = "zh"
	LangEn = "en"
)

// checkMessage is the FAIL: line for a check that could not do its work:
// cause on node, in lang. detail is the runtime's error when cause is "".
func checkMessage(lang string, cause Cause, node string, limit string, detail error) string {
	zh := lang != LangEn
	var m string
	switch cause {
	case CauseNotRunning:
		m = pick(zh, fmt.Sprintf("节点 %s 没有在运行（已停止或已退出），检查无法执行：请重置实验或联系讲师", node),
			fmt.Sprintf("the node %s is not running (stopped or exited), so the check could not run: reset the lab or ask your lecturer", node))
	case CauseNoPIDs:
		m = pick(zh, fmt.Sprintf("节点 %s 的进程数已达上限，检查无法启动：先结束失控的进程（例如 pkill 或 kill -9 -1）再检查", node),
			fmt.Sprintf("the node %s is out of processes (its process limit is reached), so the check could not start: end the runaway processes (pkill, or kill -9 -1) and check again", node))
	case CauseOOM:
		m = pick(zh, fmt.Sprintf("节点 %s 的内存已耗尽，检查被系统终止（OOM）：先结束占用内存的进程再检查", node),
			fmt.Sprintf("the node %s is out of memory and the check was killed (OOM): end what uses the memory and check again", node))
	case CauseKilled:
		m = pick(zh, fmt.Sprintf("检查在节点 %s 上被终止（SIGKILL）", node),
			fmt.Sprintf("the check was killed (SIGKILL) on the node %s", node))
	case causeTimeout:
		m = pick(zh, fmt.Sprintf("检查没有在 %s 内完成", limit), fmt.Sprintf("the check did not finish within %s", limit))
	default:
		m = pick(zh, fmt.Sprintf("检查无法在 %s 上运行：%v", node, detail),
			fmt.Sprintf("the check could not run on %s: %v", node, detail))
	}
	return "FAIL: " + m
}

func pick(zh bool, inZh, inEn string) string {
	if zh {
		return inZh
	}
	return inEn
}
