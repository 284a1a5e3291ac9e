package webchat

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkIdleStreams opens 1,000 event streams that stay idle and
// reports the memory (heap and goroutine stacks, server and the minimal raw
// TCP clients together, in one process) per connection.
//
//	scripts/test -run '^$' -bench IdleStreams ./webchat/
func BenchmarkIdleStreams(b *testing.B) {
	const n = 1000
	e := newEnv(b, func(c *Config) { c.Keepalive = time.Minute })
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = newToken()
		if _, err := e.db.Exec(`INSERT INTO webchat_conversations (token_hash) VALUES ($1)`, hashToken(tokens[i])); err != nil {
			b.Fatal(err)
		}
	}
	addr := strings.TrimPrefix(e.srv.URL, "http://")
	for range b.N {
		before := memInUse()
		conns := make([]net.Conn, 0, n)
		start := time.Now()
		for _, tok := range tokens {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				b.Fatal(err)
			}
			fmt.Fprintf(c, "GET /chat/api/events HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n\r\n", addr, tok)
			r := bufio.NewReaderSize(c, 512)
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					b.Fatal(err)
				}
				if strings.HasPrefix(line, "retry:") {
					break
				}
			}
			conns = append(conns, c)
		}
		opened := time.Since(start)
		time.Sleep(500 * time.Millisecond)
		after := memInUse()
		b.ReportMetric(float64(after-before)/float64(n), "bytes/conn")
		b.ReportMetric(float64(n)/opened.Seconds(), "opens/s")
		for _, c := range conns {
			c.Close()
		}
	}
}

// memInUse is heap in use plus goroutine stacks, after a GC.
func memInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse + m.StackInuse)
}

// BenchmarkMessages sends messages from 16 conversations at once and waits
// until each has its answer in the event log: messages/s from POST to
// answer event.
//
//	scripts/test -run '^$' -bench Messages ./webchat/
func BenchmarkMessages(b *testing.B) {
	e := newEnv(b, func(c *Config) { c.TokenRate, c.AddrRate = 1000, 1<<30 })
	const workers = 16
	// The engine answers at most 20 messages a minute per chat (flood
	// limit): each conversation gets at most 15.
	tokens := make([]string, b.N/15+workers)
	for i := range tokens {
		tokens[i] = newToken()
		if _, err := e.db.Exec(`INSERT INTO webchat_conversations (token_hash) VALUES ($1)`, hashToken(tokens[i])); err != nil {
			b.Fatal(err)
		}
	}
	questions := []string{"Wie beantrage ich einen Personalausweis?", "Was kostet ein Reisepass?",
		"Wann ist die Sperrmüllabfuhr?", "Wie melde ich meinen Wohnsitz um?"}
	var sent atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := sent.Add(1) - 1
				if k >= int64(b.N) {
					return
				}
				body := fmt.Sprintf(`{"text":%q,"lang":"de"}`, questions[k%int64(len(questions))])
				req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/chat/api/messages", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+tokens[k%int64(len(tokens))])
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					b.Errorf("status %d", res.StatusCode)
					return
				}
			}
		}()
	}
	wg.Wait()
	// Every answer is in the log: nothing of the channel waits in the
	// outbox, and each conversation's last message has a bot event after it.
	for {
		var open int
		_ = e.db.Get(&open, `
			SELECT (SELECT count(*) FROM outbox WHERE channel = 'web' AND status IN ('pending', 'sending')) +
			(SELECT count(*) FROM webchat_events c WHERE c.sender = 'citizen' AND NOT EXISTS (
				SELECT 1 FROM webchat_events a WHERE a.conversation_id = c.conversation_id AND a.id > c.id AND a.sender = 'bot'))`)
		if open == 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}
