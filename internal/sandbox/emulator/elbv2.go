package emulator

func (s *Server) registerELBv2() {}
