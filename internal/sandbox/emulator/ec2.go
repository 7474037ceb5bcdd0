package emulator

func (s *Server) registerEC2() {}
