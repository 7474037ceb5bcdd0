package emulator

func (s *Server) registerEKS() {}
