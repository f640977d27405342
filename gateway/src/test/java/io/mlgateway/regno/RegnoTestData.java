package io.mlgateway.regno;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** The customer's 100 real recognitions (test_data.csv), as ordered column → value maps. */
public final class RegnoTestData {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private RegnoTestData() {
    }

    public static List<Map<String, String>> rows() throws IOException {
        try (InputStream in = RegnoTestData.class.getResourceAsStream("/regno/test_data.csv")) {
            String[] lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\r?\n");
            List<String> header = splitCsv(lines[0]);
            List<Map<String, String>> rows = new ArrayList<>();
            for (int i = 1; i < lines.length; i++) {
                if (lines[i].isBlank()) {
                    continue;
                }
                List<String> cells = splitCsv(lines[i]);
                if (cells.size() != header.size()) {
                    throw new IllegalStateException("line " + (i + 1) + " has " + cells.size() + " cells");
                }
                Map<String, String> row = new LinkedHashMap<>();
                for (int c = 0; c < header.size(); c++) {
                    row.put(header.get(c), cells.get(c));
                }
                rows.add(row);
            }
            return rows;
        }
    }

    /** A CSV row as a client sends it: numbers as JSON numbers, the score lists as the CSV's strings. */
    static ObjectNode request(Map<String, String> row) {
        ObjectNode node = JSON.createObjectNode();
        row.forEach((k, v) -> {
            switch (k) {
                case "recognition_accuracy", "afts_regno_ai_score" -> node.put(k, Double.parseDouble(v));
                case "direction" -> node.put(k, Integer.parseInt(v));
                default -> node.put(k, v);
            }
        });
        return node;
    }

    /** RFC 4180 cells: quoted cells may hold commas and doubled quotes. */
    private static List<String> splitCsv(String line) {
        List<String> cells = new ArrayList<>();
        StringBuilder cell = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char ch = line.charAt(i);
            if (quoted) {
                if (ch == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    cell.append('"');
                    i++;
                } else if (ch == '"') {
                    quoted = false;
                } else {
                    cell.append(ch);
                }
            } else if (ch == '"') {
                quoted = true;
            } else if (ch == ',') {
                cells.add(cell.toString());
                cell.setLength(0);
            } else {
                cell.append(ch);
            }
        }
        cells.add(cell.toString());
        return cells;
    }
}
