// HadoopRead: reads files written by Sluice's HDFS sink with Hadoop's (and
// Avro's) own reader classes, and prints what they see. Run it through
// hadoop_read.sh, which finds the jars, compiles this file once and keeps
// stdout clean. See README.md in this directory.
//
// Modes (each takes one or more files; the first failure ends the run):
//   seq FILE          SequenceFile.Reader. First line: header JSON; then one
//                     JSON line per record {"key": .., "value": "<base64>"}.
//   stream FILE       codec chosen by CompressionCodecFactory from the file
//                     extension; the decompressed bytes go to stdout as-is.
//   avro FILE         DataFileReader + GenericDatumReader. First line:
//                     {"schema": "<schema JSON>", "codec": ".."}; then one
//                     JSON object per record (bytes as base64).
//   write-seq FILE CODEC|none N       (developer aid) a BLOCK-compressed
//                     SequenceFile (LongWritable i, BytesWritable "record-i")
//                     written by SequenceFile.Writer. CODEC: gzip, bzip2,
//                     deflate, snappy, lz4, zstd, or a codec class name;
//                     prefix "record:" for RECORD compression; "none" for an
//                     uncompressed file.
//   write-stream FILE N [PER]         (developer aid) "record-i\n" lines
//                     through codec.createOutputStream (codec from the
//                     extension); with PER, finish() + resetState() after
//                     every PER records, as Flume's CompressedStream does on
//                     each flush.
//   write-avro FILE CODEC N           (developer aid) an Avro container file
//                     of Flume's Event schema (headers {"i": "<i>"}, body
//                     "record-i") written by DataFileWriter. CODEC: null,
//                     deflate, snappy, bzip2, xz, zstandard.
//   warmup DIR        writes and reads small files of each kind in DIR with
//                     output discarded; hadoop_read.sh uses it once to record
//                     the classes to put in its class-data-sharing archive.
//
// HADOOP_READ_CONF="name=value,..." sets Hadoop configuration properties
// (e.g. io.compression.codec.snappy.buffersize) for any mode.
//
// Any failure: "hadoop_read: FILE: <exception class>: <message>" on stderr,
// exit status 1. Usage errors exit with status 2.
//
// Written against the public Hadoop (org.apache.hadoop.io,
// org.apache.hadoop.io.compress) and Avro (org.apache.avro.file,
// org.apache.avro.generic) APIs.

import java.io.BufferedOutputStream;
import java.io.File;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import org.apache.avro.Schema;
import org.apache.avro.file.CodecFactory;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericFixed;
import org.apache.avro.generic.GenericRecord;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.io.BinaryComparable;
import org.apache.hadoop.io.BooleanWritable;
import org.apache.hadoop.io.BytesWritable;
import org.apache.hadoop.io.DataOutputBuffer;
import org.apache.hadoop.io.DoubleWritable;
import org.apache.hadoop.io.FloatWritable;
import org.apache.hadoop.io.IntWritable;
import org.apache.hadoop.io.LongWritable;
import org.apache.hadoop.io.NullWritable;
import org.apache.hadoop.io.SequenceFile;
import org.apache.hadoop.io.Text;
import org.apache.hadoop.io.VIntWritable;
import org.apache.hadoop.io.VLongWritable;
import org.apache.hadoop.io.Writable;
import org.apache.hadoop.io.compress.CompressionCodec;
import org.apache.hadoop.io.compress.CompressionCodecFactory;
import org.apache.hadoop.io.compress.CompressionOutputStream;
import org.apache.hadoop.util.ReflectionUtils;

public final class HadoopRead {

    /** The real stdout; System.out is pointed at stderr so that nothing a
     *  library prints can end up in our output. */
    private static OutputStream out;

    public static void main(String[] args) {
        out = new BufferedOutputStream(new FileOutputStream(outputFd()), 1 << 16);
        System.setOut(System.err);

        if (args.length < 2) {
            usage();
        }
        String mode = args[0];
        String current = args[1];
        try {
            switch (mode) {
                case "seq":
                    for (int i = 1; i < args.length; i++) { current = args[i]; readSeq(current); }
                    break;
                case "stream":
                    for (int i = 1; i < args.length; i++) { current = args[i]; readStream(current); }
                    break;
                case "avro":
                    for (int i = 1; i < args.length; i++) { current = args[i]; Avro.readAvro(current); }
                    break;
                case "write-seq":
                    if (args.length != 4) usage();
                    writeSeq(args[1], args[2], Integer.parseInt(args[3]));
                    break;
                case "write-stream":
                    if (args.length != 3 && args.length != 4) usage();
                    writeStream(args[1], Integer.parseInt(args[2]),
                            args.length == 4 ? Integer.parseInt(args[3]) : 0);
                    break;
                case "write-avro":
                    if (args.length != 4) usage();
                    Avro.writeAvro(args[1], args[2], Integer.parseInt(args[3]));
                    break;
                case "warmup":
                    warmup(args[1]);
                    break;
                default:
                    usage();
            }
            out.flush();
        } catch (Throwable t) {
            try { out.flush(); } catch (Throwable ignored) { }
            System.err.println("hadoop_read: " + current + ": " + t.getClass().getName() + ": " + t.getMessage());
            if (System.getenv("HADOOP_READ_TRACE") != null) {
                t.printStackTrace(System.err);
            }
            System.err.flush();
            System.exit(1);
        }
        System.err.flush();
        // System.exit, not halt: snappy-java, lz4-java and zstd-jni unpack
        // their native library into java.io.tmpdir and delete it on exit.
        System.exit(0);
    }

    /** hadoop_read.sh hands the real stdout over as fd 3 (HADOOP_READ_OUT_FD)
     *  and points the JVM's own fd 1 at stderr, so that anything the JVM
     *  itself prints there (e.g. the report of a crash in native code) cannot
     *  mix with our output. Needs --add-opens java.base/java.io=ALL-UNNAMED. */
    private static FileDescriptor outputFd() {
        String fd = System.getenv("HADOOP_READ_OUT_FD");
        if (fd != null) {
            try {
                FileDescriptor d = new FileDescriptor();
                java.lang.reflect.Field f = FileDescriptor.class.getDeclaredField("fd");
                f.setAccessible(true);
                f.setInt(d, Integer.parseInt(fd));
                return d;
            } catch (ReflectiveOperationException | RuntimeException e) {
                System.err.println("hadoop_read: cannot use fd " + fd + " for output (" + e + "); using stdout");
            }
        }
        return FileDescriptor.out;
    }

    private static void usage() {
        System.err.println("usage: hadoop_read.sh seq|stream|avro FILE...\n"
                + "       hadoop_read.sh write-seq FILE CODEC|none N\n"
                + "       hadoop_read.sh write-stream FILE N [PER]\n"
                + "       hadoop_read.sh write-avro FILE CODEC N");
        System.err.flush();
        System.exit(2);
    }

    private static Configuration conf() {
        Configuration conf = new Configuration();
        // developer aid: HADOOP_READ_CONF="name=value,name=value" overrides
        String extra = System.getenv("HADOOP_READ_CONF");
        if (extra != null) {
            for (String kv : extra.split(",")) {
                int eq = kv.indexOf('=');
                if (eq > 0) conf.set(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
            }
        }
        return conf;
    }

    /** The local file system without the checksum layer (no .crc side files
     *  are written, none are required or checked when reading), made
     *  directly: FileSystem.get() would also log in a Hadoop user, look up
     *  groups and load every file system implementation, which costs time. */
    private static FileSystem rawLocal(Configuration conf) throws Exception {
        RawLocalFileSystem fs = new RawLocalFileSystem();
        fs.initialize(URI.create("file:///"), conf);
        return fs;
    }

    private static Path localPath(String file) {
        return new Path(new File(file).getAbsoluteFile().toURI());
    }

    // ---------------------------------------------------------------- seq

    private static void readSeq(String file) throws Exception {
        Configuration conf = conf();
        Path path = localPath(file);
        FileSystem fs = rawLocal(conf);
        long length = fs.getFileStatus(path).getLen();
        try (SequenceFile.Reader reader = new SequenceFile.Reader(conf,
                SequenceFile.Reader.stream(fs.open(path)), SequenceFile.Reader.length(length))) {
            StringBuilder sb = new StringBuilder();
            sb.append("{\"keyClass\":");
            str(sb, reader.getKeyClassName());
            sb.append(",\"valueClass\":");
            str(sb, reader.getValueClassName());
            sb.append(",\"compressed\":").append(reader.isCompressed());
            sb.append(",\"blockCompressed\":").append(reader.isBlockCompressed());
            sb.append(",\"codec\":");
            CompressionCodec codec = reader.getCompressionCodec();
            if (codec == null) sb.append("null"); else str(sb, codec.getClass().getName());
            sb.append(",\"metadata\":{");
            boolean first = true;
            for (Map.Entry<Text, Text> e : reader.getMetadata().getMetadata().entrySet()) {
                if (!first) sb.append(',');
                first = false;
                str(sb, e.getKey().toString());
                sb.append(':');
                str(sb, e.getValue().toString());
            }
            sb.append("}}\n");
            emit(sb);

            Writable key = (Writable) ReflectionUtils.newInstance(reader.getKeyClass(), conf);
            Writable value = (Writable) ReflectionUtils.newInstance(reader.getValueClass(), conf);
            while (reader.next(key, value)) {
                sb.setLength(0);
                sb.append("{\"key\":");
                writableJson(sb, key);
                sb.append(",\"value\":");
                writableJson(sb, value);
                sb.append("}\n");
                emit(sb);
            }
        }
    }

    /** Numbers and booleans as JSON values, everything else as the base64 of
     *  its bytes: BytesWritable/Text contents (only getLength() bytes), or the
     *  Writable's serialized form for other classes. */
    private static void writableJson(StringBuilder sb, Writable w) throws Exception {
        if (w instanceof LongWritable) { sb.append(((LongWritable) w).get()); return; }
        if (w instanceof IntWritable) { sb.append(((IntWritable) w).get()); return; }
        if (w instanceof VLongWritable) { sb.append(((VLongWritable) w).get()); return; }
        if (w instanceof VIntWritable) { sb.append(((VIntWritable) w).get()); return; }
        if (w instanceof BooleanWritable) { sb.append(((BooleanWritable) w).get()); return; }
        if (w instanceof DoubleWritable) { sb.append(((DoubleWritable) w).get()); return; }
        if (w instanceof FloatWritable) { sb.append(((FloatWritable) w).get()); return; }
        if (w instanceof NullWritable) { sb.append("null"); return; }
        byte[] bytes;
        if (w instanceof BinaryComparable) {  // BytesWritable, Text
            BinaryComparable b = (BinaryComparable) w;
            bytes = Arrays.copyOf(b.getBytes(), b.getLength());
        } else {
            DataOutputBuffer buf = new DataOutputBuffer();
            w.write(buf);
            bytes = Arrays.copyOf(buf.getData(), buf.getLength());
        }
        sb.append('"').append(Base64.getEncoder().encodeToString(bytes)).append('"');
    }

    // ------------------------------------------------------------- stream

    private static CompressionCodec codecFor(Configuration conf, String file) {
        CompressionCodec codec = new CompressionCodecFactory(conf).getCodec(localPath(file));
        if (codec == null) {
            throw new IllegalArgumentException("no Hadoop compression codec matches the file name extension");
        }
        return codec;
    }

    private static void readStream(String file) throws Exception {
        Configuration conf = conf();
        CompressionCodec codec = codecFor(conf, file);
        try (InputStream in = codec.createInputStream(new FileInputStream(file))) {
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                out.write(buf, 0, n);
            }
        }
        out.flush();
    }

    // --------------------------------------------------------------- avro

    /** Kept in its own class so that the Avro jars are only loaded in avro mode. */
    private static final class Avro {

        static void readAvro(String file) throws Exception {
            try (DataFileReader<Object> reader = new DataFileReader<>(new File(file), new GenericDatumReader<>())) {
                StringBuilder sb = new StringBuilder();
                sb.append("{\"schema\":");
                str(sb, reader.getSchema().toString());
                sb.append(",\"codec\":");
                String codec = reader.getMetaString("avro.codec");
                str(sb, codec == null ? "null" : codec);
                sb.append("}\n");
                emit(sb);
                Object datum = null;
                while (reader.hasNext()) {
                    datum = reader.next(datum instanceof GenericRecord ? datum : null);
                    sb.setLength(0);
                    avroJson(sb, datum);
                    sb.append('\n');
                    emit(sb);
                }
            }
        }

        /** Generic Avro datum to JSON: records as objects (field order of the
         *  schema), maps as objects, bytes/fixed as base64 strings, strings,
         *  enums and numbers as themselves, unions unwrapped. */
        private static void avroJson(StringBuilder sb, Object v) {
            if (v == null) { sb.append("null"); return; }
            if (v instanceof GenericRecord) {
                GenericRecord r = (GenericRecord) v;
                sb.append('{');
                boolean first = true;
                for (Schema.Field f : r.getSchema().getFields()) {
                    if (!first) sb.append(',');
                    first = false;
                    str(sb, f.name());
                    sb.append(':');
                    avroJson(sb, r.get(f.pos()));
                }
                sb.append('}');
                return;
            }
            if (v instanceof Map) {
                sb.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                    if (!first) sb.append(',');
                    first = false;
                    str(sb, String.valueOf(e.getKey()));
                    sb.append(':');
                    avroJson(sb, e.getValue());
                }
                sb.append('}');
                return;
            }
            if (v instanceof Collection) {
                sb.append('[');
                boolean first = true;
                for (Object o : (Collection<?>) v) {
                    if (!first) sb.append(',');
                    first = false;
                    avroJson(sb, o);
                }
                sb.append(']');
                return;
            }
            if (v instanceof ByteBuffer) {
                ByteBuffer b = ((ByteBuffer) v).duplicate();
                byte[] bytes = new byte[b.remaining()];
                b.get(bytes);
                sb.append('"').append(Base64.getEncoder().encodeToString(bytes)).append('"');
                return;
            }
            if (v instanceof GenericFixed) {
                sb.append('"').append(Base64.getEncoder().encodeToString(((GenericFixed) v).bytes())).append('"');
                return;
            }
            if (v instanceof Number || v instanceof Boolean) {
                sb.append(v);
                return;
            }
            // CharSequence (Utf8, String), GenericEnumSymbol, anything else
            str(sb, v.toString());
        }

        /** Flume's avro_event schema. */
        private static final String EVENT_SCHEMA = "{\"type\":\"record\",\"name\":\"Event\",\"fields\":["
                + "{\"name\":\"headers\",\"type\":{\"type\":\"map\",\"values\":\"string\"}},"
                + "{\"name\":\"body\",\"type\":\"bytes\"}]}";

        static void writeAvro(String file, String codec, int n) throws Exception {
            Schema schema = new Schema.Parser().parse(EVENT_SCHEMA);
            boolean ok = false;
            try (DataFileWriter<GenericRecord> w = new DataFileWriter<>(new GenericDatumWriter<GenericRecord>(schema))) {
                w.setCodec(CodecFactory.fromString(codec));
                w.create(schema, new File(file));
                for (int i = 0; i < n; i++) {
                    GenericRecord r = new GenericData.Record(schema);
                    r.put("headers", Collections.singletonMap("i", String.valueOf(i)));
                    r.put("body", ByteBuffer.wrap(record(i)));
                    w.append(r);
                }
                ok = true;
            } finally {
                if (!ok) new File(file).delete();
            }
        }
    }

    // -------------------------------------------------------------- write

    private static CompressionCodec namedCodec(Configuration conf, String name) throws Exception {
        String cls;
        switch (name) {
            case "gzip": case "gz": cls = "org.apache.hadoop.io.compress.GzipCodec"; break;
            case "bzip2": case "bz2": cls = "org.apache.hadoop.io.compress.BZip2Codec"; break;
            case "deflate": case "default": cls = "org.apache.hadoop.io.compress.DefaultCodec"; break;
            case "snappy": cls = "org.apache.hadoop.io.compress.SnappyCodec"; break;
            case "lz4": cls = "org.apache.hadoop.io.compress.Lz4Codec"; break;
            case "zstd": case "zst": cls = "org.apache.hadoop.io.compress.ZStandardCodec"; break;
            default: cls = name;
        }
        return (CompressionCodec) ReflectionUtils.newInstance(conf.getClassByName(cls), conf);
    }

    private static byte[] record(int i) {
        return ("record-" + i).getBytes(StandardCharsets.UTF_8);
    }

    private static void writeSeq(String file, String codecName, int n) throws Exception {
        Configuration conf = conf();
        SequenceFile.CompressionType type = SequenceFile.CompressionType.BLOCK;
        if (codecName.startsWith("record:")) {
            type = SequenceFile.CompressionType.RECORD;
            codecName = codecName.substring("record:".length());
        }
        List<SequenceFile.Writer.Option> opts = new ArrayList<>();
        FSDataOutputStream raw = rawLocal(conf).create(localPath(file), true);
        opts.add(SequenceFile.Writer.stream(raw));
        opts.add(SequenceFile.Writer.keyClass(LongWritable.class));
        opts.add(SequenceFile.Writer.valueClass(BytesWritable.class));
        if (codecName.equals("none")) {
            opts.add(SequenceFile.Writer.compression(SequenceFile.CompressionType.NONE));
        } else {
            opts.add(SequenceFile.Writer.compression(type, namedCodec(conf, codecName)));
        }
        boolean ok = false;
        try (SequenceFile.Writer w = SequenceFile.createWriter(conf, opts.toArray(new SequenceFile.Writer.Option[0]))) {
            LongWritable key = new LongWritable();
            BytesWritable value = new BytesWritable();
            for (int i = 0; i < n; i++) {
                key.set(i);
                byte[] b = record(i);
                value.set(b, 0, b.length);
                w.append(key, value);
            }
            ok = true;
        } finally {
            raw.close();  // a Writer made with stream() does not close it
            if (!ok) new File(file).delete();
        }
    }

    private static void writeStream(String file, int n, int per) throws Exception {
        Configuration conf = conf();
        CompressionCodec codec = codecFor(conf, file);
        boolean ok = false;
        try (OutputStream raw = new FileOutputStream(file)) {
            CompressionOutputStream c = codec.createOutputStream(raw);
            boolean finished = false;
            for (int i = 0; i < n; i++) {
                if (finished) { c.resetState(); finished = false; }
                c.write(record(i));
                c.write('\n');
                if (per > 0 && (i + 1) % per == 0) { c.finish(); finished = true; }
            }
            c.close();
            ok = true;
        } finally {
            if (!ok) new File(file).delete();
        }
    }

    /** Exercises the read and write paths once (output discarded). */
    private static void warmup(String dir) throws Exception {
        OutputStream real = out;
        out = OutputStream.nullOutputStream();
        try {
            String seq = new File(dir, "warmup.seq").getPath();
            writeSeq(seq, "deflate", 3);
            readSeq(seq);
            String gz = new File(dir, "warmup.gz").getPath();
            writeStream(gz, 3, 0);
            readStream(gz);
            String avro = new File(dir, "warmup.avro").getPath();
            try {
                Avro.writeAvro(avro, "deflate", 3);
                Avro.readAvro(avro);
            } catch (Throwable t) {
                // Avro's dependencies are optional; warm up what is there
            }
        } finally {
            out = real;
        }
    }

    // --------------------------------------------------------------- json

    private static void emit(StringBuilder sb) throws Exception {
        out.write(sb.toString().getBytes(StandardCharsets.UTF_8));
    }

    private static void str(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': sb.append("\\\""); break;
                case '\\': sb.append("\\\\"); break;
                case '\n': sb.append("\\n"); break;
                case '\r': sb.append("\\r"); break;
                case '\t': sb.append("\\t"); break;
                case '\b': sb.append("\\b"); break;
                case '\f': sb.append("\\f"); break;
                default:
                    if (c < 0x20 || c == 0x2028 || c == 0x2029) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
            }
        }
        sb.append('"');
    }
}
