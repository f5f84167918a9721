// webapp: the small web application the tests run inside workspace runtimes. One static binary
// (no cgo, standard library only) so that an image is busybox plus this file. It serves a page,
// a same-origin JSON API, an asset and a WebSocket echo on $PORT (default 8080). It reports
// which environment variables are set, never their values.
package main

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"os"
	"strings"
)

const page = `<!doctype html>
<html><head><meta charset="utf-8"><title>webapp</title><script src="/assets/app.js"></script></head>
<body><h1 id="title">webapp</h1><p id="status">loading</p></body></html>
`

const script = `window.webapp = { loaded: true };
document.addEventListener('DOMContentLoaded', async () => {
  const status = await (await fetch('/api/status')).json();
  document.getElementById('status').textContent = 'service ' + status.service;
});
`

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page)
	})
	mux.HandleFunc("/assets/app.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		io.WriteString(w, script)
	})
	mux.HandleFunc("/api/status", func(w http.ResponseWriter, r *http.Request) {
		// ?env=A,B says which of these variables are set (true/false), never what they hold.
		set := map[string]bool{}
		for _, name := range strings.Split(r.URL.Query().Get("env"), ",") {
			if name != "" {
				_, ok := os.LookupEnv(name)
				set[name] = ok
			}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"service": os.Getenv("PALISADE_SERVICE"),
			"uid":     os.Getuid(),
			"env":     set,
			"path":    r.URL.Path,
			"host":    r.Host,
		})
	})
	mux.HandleFunc("/api/echo", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"method": r.Method, "path": r.URL.RequestURI(), "headers": r.Header})
	})
	mux.HandleFunc("/ws", echoSocket)
	log.Printf("webapp listening on :%s", port)
	log.Fatal(http.ListenAndServe(":"+port, mux))
}

// echoSocket answers a WebSocket handshake (RFC 6455) and echoes text and binary messages.
func echoSocket(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Sec-WebSocket-Key")
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") || key == "" {
		http.Error(w, "websocket upgrade expected", http.StatusBadRequest)
		return
	}
	hijacker, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "cannot hijack", http.StatusInternalServerError)
		return
	}
	conn, rw, err := hijacker.Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n")
	rw.WriteString("Sec-WebSocket-Accept: " + base64.StdEncoding.EncodeToString(sum[:]) + "\r\n\r\n")
	rw.Flush()
	for {
		opcode, payload, err := readFrame(rw.Reader)
		if err != nil {
			return
		}
		switch opcode {
		case 0x8: // close
			writeFrame(rw.Writer, 0x8, payload)
			rw.Flush()
			return
		case 0x9: // ping
			writeFrame(rw.Writer, 0xA, payload)
		case 0x1, 0x2:
			writeFrame(rw.Writer, opcode, payload)
		}
		if rw.Flush() != nil {
			return
		}
	}
}

func readFrame(r *bufio.Reader) (byte, []byte, error) {
	var head [2]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return 0, nil, err
	}
	opcode := head[0] & 0x0F
	length := uint64(head[1] & 0x7F)
	switch length {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return 0, nil, err
		}
		length = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return 0, nil, err
		}
		length = binary.BigEndian.Uint64(ext[:])
	}
	if length > 1<<20 {
		return 0, nil, io.ErrUnexpectedEOF
	}
	var mask [4]byte
	masked := head[1]&0x80 != 0
	if masked {
		if _, err := io.ReadFull(r, mask[:]); err != nil {
			return 0, nil, err
		}
	}
	payload := make([]byte, length)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, err
	}
	if masked {
		for i := range payload {
			payload[i] ^= mask[i%4]
		}
	}
	return opcode, payload, nil
}

func writeFrame(w *bufio.Writer, opcode byte, payload []byte) {
	w.WriteByte(0x80 | opcode)
	n := len(payload)
	switch {
	case n < 126:
		w.WriteByte(byte(n))
	case n < 1<<16:
		w.WriteByte(126)
		binary.Write(w, binary.BigEndian, uint16(n))
	default:
		w.WriteByte(127)
		binary.Write(w, binary.BigEndian, uint64(n))
	}
	w.Write(payload)
}
