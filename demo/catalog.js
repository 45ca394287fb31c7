#!/usr/bin/env node
// catalog.js - the demo's sample product catalog, generated deterministically.
//
//   node demo/catalog.js N > products.tsv
//
// Writes N products as tab-separated text for COPY (id, title, description,
// category, brand, price, in_stock, created_at).  The same N always gives
// the same rows: every random choice comes from @faker-js/faker with a fixed
// seed.  Product types, features and uses are our own small vocabulary of
// plain English words (so that GloVe word vectors know them); adjectives,
// materials, colours and brand names come from faker's commerce and company
// vocabularies.

'use strict';
const { faker } = require('@faker-js/faker');

const SEED = 20261122;
const EPOCH = Date.UTC(2026, 0, 1);     // created_at goes back two years from here

// category -> product types, features, uses, price range
const CATEGORIES = {
    outdoor: {
        types: ['hiking boots', 'tent', 'backpack', 'rain jacket', 'sleeping bag', 'lantern',
            'trekking poles', 'hiking shoes', 'raincoat', 'camping stove', 'water bottle', 'compass'],
        features: ['waterproof', 'windproof', 'lightweight', 'durable', 'insulated', 'breathable', 'rugged'],
        uses: ['hiking', 'camping', 'mountain trails', 'rainy weather', 'backpacking trips'],
        price: [15, 400],
    },
    footwear: {
        types: ['sneakers', 'sandals', 'boots', 'loafers', 'slippers', 'running shoes', 'trainers', 'heels'],
        features: ['comfortable', 'lightweight', 'cushioned', 'waterproof', 'stylish', 'breathable'],
        uses: ['running', 'walking', 'everyday wear', 'the office', 'summer days'],
        price: [20, 250],
    },
    clothing: {
        types: ['shirt', 'jeans', 'dress', 'sweater', 'hoodie', 'skirt', 'coat', 'scarf', 'socks', 'jacket'],
        features: ['soft', 'warm', 'stretchy', 'classic', 'casual', 'elegant', 'cozy'],
        uses: ['winter', 'summer', 'work', 'weekends', 'parties'],
        price: [10, 300],
    },
    kitchen: {
        types: ['knife', 'frying pan', 'skillet', 'blender', 'kettle', 'toaster', 'mug', 'spatula',
            'cutting board', 'teapot', 'saucepan', 'coffee maker'],
        features: ['nonstick', 'dishwasher safe', 'sharp', 'heavy', 'compact', 'easy to clean'],
        uses: ['cooking', 'baking', 'breakfast', 'family dinners', 'making coffee'],
        price: [8, 350],
    },
    furniture: {
        types: ['chair', 'table', 'sofa', 'desk', 'bookshelf', 'bed', 'stool', 'cabinet', 'dresser', 'armchair'],
        features: ['sturdy', 'modern', 'comfortable', 'solid', 'handmade', 'minimalist', 'vintage'],
        uses: ['the living room', 'the bedroom', 'the home office', 'small apartments', 'dining'],
        price: [40, 1500],
    },
    garden: {
        types: ['garden hose', 'shovel', 'planter', 'rake', 'patio umbrella', 'lounge chair', 'grill',
            'lawn mower', 'patio table', 'bird feeder'],
        features: ['weatherproof', 'durable', 'foldable', 'rustproof', 'heavy duty', 'lightweight'],
        uses: ['the garden', 'the patio', 'summer barbecues', 'the backyard', 'outdoor dining'],
        price: [10, 900],
    },
    electronics: {
        types: ['headphones', 'speaker', 'keyboard', 'mouse', 'monitor', 'charger', 'camera', 'tablet',
            'laptop', 'smartwatch', 'earbuds'],
        features: ['wireless', 'portable', 'fast', 'rechargeable', 'bluetooth', 'noise cancelling', 'compact'],
        uses: ['music', 'gaming', 'travel', 'the office', 'video calls'],
        price: [15, 2000],
    },
    sports: {
        types: ['football', 'tennis racket', 'bicycle', 'helmet', 'gloves', 'yoga mat', 'dumbbells',
            'skates', 'basketball', 'jump rope'],
        features: ['professional', 'lightweight', 'durable', 'adjustable', 'padded', 'grippy'],
        uses: ['training', 'the gym', 'outdoor sports', 'fitness', 'competition'],
        price: [10, 1200],
    },
    toys: {
        types: ['puzzle', 'doll', 'building blocks', 'kite', 'robot', 'board game', 'teddy bear', 'toy car'],
        features: ['colorful', 'educational', 'fun', 'safe', 'wooden', 'cuddly'],
        uses: ['kids', 'toddlers', 'family game night', 'birthdays', 'rainy afternoons'],
        price: [5, 150],
    },
    beauty: {
        types: ['shampoo', 'soap', 'lotion', 'perfume', 'lipstick', 'hair brush', 'towel', 'face cream'],
        features: ['gentle', 'natural', 'fragrant', 'organic', 'moisturizing', 'soothing'],
        uses: ['daily care', 'sensitive skin', 'the bathroom', 'travel', 'gifts'],
        price: [4, 120],
    },
    home: {
        types: ['lamp', 'rug', 'curtains', 'pillow', 'blanket', 'candle', 'vase', 'mirror', 'clock', 'quilt'],
        features: ['decorative', 'soft', 'warm', 'elegant', 'handwoven', 'cozy', 'modern'],
        uses: ['the living room', 'the bedroom', 'gifts', 'winter evenings', 'home decor'],
        price: [8, 500],
    },
    grocery: {
        types: ['coffee', 'tea', 'chocolate', 'cheese', 'honey', 'olive oil', 'pasta', 'cereal', 'cookies'],
        features: ['organic', 'fresh', 'sweet', 'roasted', 'imported', 'delicious'],
        uses: ['breakfast', 'snacks', 'cooking', 'gifts', 'the pantry'],
        price: [2, 60],
    },
    jewelry: {
        types: ['necklace', 'ring', 'bracelet', 'earrings', 'watch', 'pendant'],
        features: ['silver', 'golden', 'elegant', 'handmade', 'sparkling', 'classic'],
        uses: ['weddings', 'gifts', 'evening wear', 'anniversaries', 'everyday style'],
        price: [15, 2500],
    },
    pets: {
        types: ['leash', 'collar', 'pet bed', 'food bowl', 'cat toy', 'dog treats', 'scratching post'],
        features: ['durable', 'soft', 'washable', 'adjustable', 'chewy', 'cozy'],
        uses: ['dogs', 'cats', 'puppies', 'walks', 'playtime'],
        price: [3, 200],
    },
};

// materials for things that are made of something (faker's list has "fresh" and "frozen")
const MATERIALS = ['cotton', 'wool', 'leather', 'steel', 'wood', 'bamboo', 'plastic', 'glass',
    'ceramic', 'rubber', 'granite', 'silk', 'linen', 'aluminium', 'oak', 'nylon'];
const UNMADE = new Set(['grocery', 'beauty']);

function titleCase(s) {
    return s.replace(/\b[a-z]/g, (c) => c.toUpperCase());
}

function price(range) {
    // log-uniform between the bounds, rounded to .99 / .49 / .00 like shops do
    const [lo, hi] = range;
    const x = Math.exp(Math.log(lo) + faker.number.float({ min: 0, max: 1 }) * (Math.log(hi) - Math.log(lo)));
    const cents = faker.helpers.arrayElement([0.99, 0.49, 0.0]);
    return (Math.floor(x) + cents).toFixed(2);
}

function product(id) {
    const category = faker.helpers.arrayElement(Object.keys(CATEGORIES));
    const c = CATEGORIES[category];
    const type = faker.helpers.arrayElement(c.types);
    const [f1, f2] = faker.helpers.arrayElements(c.features, 2);
    const use = faker.helpers.arrayElement(c.uses);
    const adjective = faker.commerce.productAdjective().toLowerCase();
    const material = faker.helpers.arrayElement(MATERIALS);
    const colour = faker.color.human();
    const brand = faker.person.lastName();
    const title = faker.helpers.arrayElement([
        () => `${titleCase(f1)} ${titleCase(type)}`,
        () => `${titleCase(adjective)} ${titleCase(UNMADE.has(category) ? colour : material)} ${titleCase(type)}`,
        () => `${brand} ${titleCase(colour)} ${titleCase(type)}`,
        () => `${titleCase(f1)} ${titleCase(colour)} ${titleCase(type)}`,
    ])();
    const made = UNMADE.has(category) ? '' : ` made of ${material}`;
    const description = `${titleCase(adjective)} ${colour} ${type}${made}. ` +
        `${titleCase(f1)} and ${f2}, great for ${use}.`;
    const inStock = faker.number.float({ min: 0, max: 1 }) < 0.85;
    const created = new Date(EPOCH - faker.number.int({ min: 0, max: 730 * 86400 }) * 1000);
    return [id, title, description, category, brand, price(c.price), inStock ? 't' : 'f',
        created.toISOString()].join('\t');
}

function main() {
    const n = Number(process.argv[2] || 20000);
    if (!Number.isInteger(n) || n < 1) {
        process.stderr.write('usage: node catalog.js N  (N >= 1 products)\n');
        process.exit(2);
    }
    faker.seed(SEED);
    const out = [];
    for (let id = 1; id <= n; id++) out.push(product(id));
    process.stdout.write(out.join('\n') + '\n');
}

main();
