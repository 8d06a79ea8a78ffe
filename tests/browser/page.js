// Measurements of the rendered notebook, run in the page by the browser tests.
// One object with functions; Python calls them through page.evaluate.
(() => {
  const parse = (value) => {
    const match = /^rgba?\(([^)]*)\)$/.exec(value.trim());
    if (!match) {
      throw new Error(`cannot read the colour ${value}`);
    }
    const parts = match[1].split(/[\s,/]+/).filter(Boolean).map(Number);
    return { r: parts[0], g: parts[1], b: parts[2], a: parts.length > 3 ? parts[3] : 1 };
  };
  // `top` painted over the opaque colour `bottom`.
  const over = (top, bottom) => ({
    r: top.r * top.a + bottom.r * (1 - top.a),
    g: top.g * top.a + bottom.g * (1 - top.a),
    b: top.b * top.a + bottom.b * (1 - top.a),
    a: 1,
  });
  // What is painted behind `element`: every ancestor's background, from the
  // page's (white canvas) down, translucent ones blended.
  const backgroundOf = (element) => {
    const layers = [];
    for (let node = element; node; node = node.parentElement) {
      layers.push(parse(getComputedStyle(node).backgroundColor));
    }
    let colour = { r: 255, g: 255, b: 255, a: 1 };
    for (const layer of layers.reverse()) {
      colour = over(layer, colour);
    }
    return colour;
  };
  const luminance = (c) => {
    const channel = (v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
  };
  const contrast = (a, b) => {
    const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (light + 0.05) / (dark + 0.05);
  };
  const css = (c) => `rgb(${Math.round(c.r)}, ${Math.round(c.g)}, ${Math.round(c.b)})`;
  const textNodes = (root) => {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    const nodes = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.data.trim()) {
        nodes.push(node);
      }
    }
    return nodes;
  };

  return {
    // Every cell of every table the toolkit rendered: alignment and the
    // contrast of each piece of text against what is painted behind it.
    cells(selector) {
      const found = [];
      document.querySelectorAll(selector).forEach((table, tableIndex) => {
        // What the notebook paints around the output (the theme's background).
        const page = backgroundOf(table.closest('.jp-OutputArea-output') || table);
        table.querySelectorAll('th, td').forEach((cell) => {
          const own = backgroundOf(cell);
          const texts = textNodes(cell).map((node) => {
            const element = node.parentElement;
            const background = backgroundOf(element);
            const foreground = over(parse(getComputedStyle(element).color), background);
            return {
              text: node.data,
              colour: css(foreground),
              background: css(background),
              ratio: contrast(foreground, background),
              // How far the text's own background (a chip) stands out of the cell's.
              chip: contrast(background, own),
            };
          });
          found.push({
            table: table.className,
            tableIndex,
            tag: cell.tagName.toLowerCase(),
            text: cell.innerText,
            align: getComputedStyle(cell).textAlign,
            background: css(own),
            // How far the cell's background (a row's tint) stands out of the page's.
            tint: contrast(own, page),
            texts,
          });
        });
      });
      return found;
    },

    // The preview tables: their rows' ops and the headline above each.
    previews() {
      return [...document.querySelectorAll('table.imbi-patch-preview')].map((table) => {
        // The bold headline above the table (notes may stand between them).
        let headline = table.previousElementSibling;
        while (headline && !headline.querySelector('strong')) {
          headline = headline.previousElementSibling;
        }
        return {
          headline: headline ? headline.innerText : '',
          ops: [...table.querySelectorAll('tbody > tr')].map((row) => row.cells[0].innerText),
          paths: [...table.querySelectorAll('tbody > tr')].map((row) => row.cells[1].innerText),
        };
      });
    },

    // Where the text of `element` wraps: the characters either side of
    // each line break, and how many lines it takes.
    lineBreaks(element) {
      const breaks = [];
      let previousTop = null;
      let previous = '';
      let lines = 0;
      for (const node of textNodes(element)) {
        for (let i = 0; i < node.data.length; i += 1) {
          const range = document.createRange();
          range.setStart(node, i);
          range.setEnd(node, i + 1);
          const rects = range.getClientRects();
          if (!rects.length || rects[0].width === 0) {
            continue;
          }
          const top = rects[0].top;
          if (previousTop === null) {
            lines = 1;
          } else if (top > previousTop + 2) {
            breaks.push([previous, node.data[i]]);
            lines += 1;
          }
          previousTop = top;
          previous = node.data[i];
        }
      }
      return { lines, breaks, text: element.innerText };
    },

    // Whether `table` sticks out of its output area (a horizontal scrollbar).
    overflow(table) {
      const area = table.closest('.jp-OutputArea-output');
      return table.getBoundingClientRect().right - area.getBoundingClientRect().right;
    },

    // Whether the theme `name` is applied: named on the body, and the
    // notebook painted dark (or light) by its stylesheet.
    themed({ name, dark }) {
      const notebook = document.querySelector('.jp-Notebook');
      if (document.body.dataset.jpThemeName !== name || !notebook) {
        return false;
      }
      const light = luminance(backgroundOf(notebook)) > 0.5;
      return light !== dark;
    },

    // The notebook's state: whether every code cell ran, and any errors.
    run() {
      if (!window.jupyterapp) {
        return { ready: false };  // JupyterLab is still loading
      }
      const panel = window.jupyterapp.shell.currentWidget;
      if (!panel || !panel.content || !panel.sessionContext) {
        return { ready: false };
      }
      const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
      const cells = panel.content.widgets.filter((cell) => cell.model.type === 'code');
      const errors = [];
      cells.forEach((cell, index) => {
        cell.model.outputs.toJSON().forEach((output) => {
          if (output.output_type === 'error') {
            errors.push(`cell ${index + 1}: ${output.ename}: ${output.evalue}`);
          }
        });
      });
      const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
      return {
        ready: true,
        kernel: kernel ? kernel.status : 'none',
        cells: cells.length,
        executed: cells.filter((cell) => cell.model.executionCount !== null).length,
        running: prompts.filter((prompt) => prompt.innerText.includes('*')).length,
        errors,
      };
    },
  };
})()
