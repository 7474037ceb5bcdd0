package emulator

import "maps"

// The seam between target health and the sandbox's Kubernetes pods. An
// Application Load Balancer learns whether a pod serves by health-checking
// it; the sandbox has no pod to send a request to, so the sandbox's
// TargetGroupBinding controller (package sandbox/tgb) tells the emulator
// which pod addresses are ready, and a target whose address belongs to a
// pod that is not ready fails its health checks, as it would on AWS.
// Addresses no controller reported (the scenario's own targets) keep the
// address-held rule of targetHealth.

// SetPodReadiness replaces what the emulator knows of the pods of one
// cluster: ready maps a pod IP address to whether the pod is ready. A nil
// or empty map forgets the cluster's pods. It is runtime knowledge, not
// state: it is not saved, and the controller reports it again on start.
func (s *Server) SetPodReadiness(cluster string, ready map[string]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(ready) == 0 {
		delete(s.world.PodReadiness, cluster)
		return
	}
	if s.world.PodReadiness == nil {
		s.world.PodReadiness = map[string]map[string]bool{}
	}
	s.world.PodReadiness[cluster] = maps.Clone(ready)
}

// elbTargetPodNotReady reports whether an IP target's address is a pod of a
// cluster in the target group's VPC that a controller reported not ready.
func (w *World) elbTargetPodNotReady(tg *TargetGroup, t Target) bool {
	if tg.TargetType != "ip" {
		return false
	}
	for cluster, pods := range w.PodReadiness {
		ready, known := pods[t.ID]
		if !known {
			continue
		}
		if c, ok := w.Clusters[cluster]; ok && c.VPCID != tg.VPCID {
			continue
		}
		return !ready
	}
	return false
}
