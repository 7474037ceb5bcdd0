package emulator

func (s *Server) registerQuotas() {}
